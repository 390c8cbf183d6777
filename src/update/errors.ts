/**
 * Why an update stopped, with the exit code the other commands use: 1 when the input is at fault (a checksum
 * mismatch, a hostile archive, a rule that fails lint or compile), 2 when the update could not run (network, disk,
 * the gateway not answering). Either way the rules in force stay as they were. `details` are the file:line lines.
 */
export class UpdateRefused extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}
