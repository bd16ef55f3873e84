/** `a[i]`, failing the test with the index when it is out of range (instead of a non-null assertion). */
export function at<T>(a: readonly T[], i: number): T {
  const v = a[i];
  if (v === undefined) throw new RangeError(`index ${i} out of range (length ${a.length})`);
  return v;
}
