/** A refusal of `spinal dataset`: the message names the offending file, topic, record or value. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}
