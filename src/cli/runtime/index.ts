/** berth-runtime: the runc-compatible command line. One file per command in this folder. */
export async function main(argv: string[]): Promise<number> {
  void argv;
  process.stderr.write('berth-runtime: not built yet\n');
  return 1;
}
