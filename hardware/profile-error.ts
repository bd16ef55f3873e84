/** The error every profile problem raises: a message for people, the issues as data for code. */

/** One problem found in a profile. `message` is complete on its own and starts with `path`,
 * e.g. `joints[2].limits.velocityMax must be > 0 (got -1)`. `path` is '' for the whole document. */
export interface ProfileIssue {
  readonly path: string;
  readonly message: string;
}

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  /** Where the profile came from: a built-in id or a file path. */
  readonly source: string;
  /** Empty for problems that are not about one field (unknown id, unreadable file). */
  readonly issues: readonly ProfileIssue[];

  constructor(source: string, detail: string | readonly ProfileIssue[], options?: { cause?: unknown }) {
    const issues = typeof detail === 'string' ? [] : detail;
    const text = typeof detail === 'string' ? detail : detail.map((i) => i.message).join('; ');
    super(`profile ${source}: ${text}`, options);
    this.source = source;
    this.issues = issues;
  }
}
