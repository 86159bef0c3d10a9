/**
 * Why a container's command could not run, from the runtime's words (runtimes give no codes):
 * docker exits 127 when the command is not found and 126 when it cannot be invoked.
 */
export type StartFailureKind = 'not-found' | 'cannot-invoke';

export function startFailureKind(message: string): StartFailureKind | undefined {
  const m = message.toLowerCase();
  if (/executable file not found|exec[^:]*: no such file or directory|no such file or directory.*exec|not found in \$path/.test(m)) return 'not-found';
  if (/exec[^\n]*(permission denied|exec format error|is a directory|not a directory)/.test(m) || /(permission denied|exec format error).*exec/.test(m)) return 'cannot-invoke';
  return undefined;
}
