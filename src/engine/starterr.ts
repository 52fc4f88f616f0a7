/**
 * The exit code docker records for a process that could not start (its
 * reading of the runtime's error): 127 when the command itself is missing,
 * 126 when it cannot be run or anything else failed.
 */
export function startFailureCode(message: string, cmd: string): number {
  const text = message.toLowerCase();
  if (text.includes(cmd.toLowerCase()) && (text.includes('executable file not found') || text.includes('no such file or directory'))) return 127;
  if (text.includes('not a directory')) return 127;
  return 126;
}
