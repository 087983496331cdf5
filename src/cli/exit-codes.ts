/** The exit codes of every cbpf command. */
export enum ExitCode {
  /** Success; for checking commands, every check passed. */
  Ok = 0,
  /** Bad input, or a check that failed. */
  Failure = 1,
  /** The command line itself is wrong. */
  Usage = 2,
}
