/**
 * One file write that a resource translates into. Translations are pure (resources in, writes
 * out) so that they can be unit-tested without a kernel; the managers carry them out.
 */
export interface CgroupWrite {
  /** Controller owning the file ("memory", "cpu", ...); "" for core "cgroup.*" files. */
  controller: string;
  file: string;
  value: string;
  /** What a person calls it, for error messages: "memory limit". */
  label: string;
  /** Tried in order when `file` does not exist (e.g. blkio.weight -> blkio.bfq.weight). */
  alternatives?: { file: string; value: string }[];
  /** When no candidate file exists: fail (default), warn and go on, or go on quietly. */
  ifMissing?: 'error' | 'warn' | 'ignore';
}

/** Something a translation could not honour but that does not make the request invalid. */
export type Warn = (message: string) => void;

export function write(
  controller: string,
  file: string,
  value: string | number,
  label: string,
  extra: Pick<CgroupWrite, 'alternatives' | 'ifMissing'> = {},
): CgroupWrite {
  return { controller, file, value: String(value), label, ...extra };
}

/** The controller a cgroup v2 interface file belongs to: "memory.max" -> "memory". */
export function controllerOfV2File(file: string): string {
  const dot = file.indexOf('.');
  const prefix = dot < 0 ? file : file.slice(0, dot);
  return prefix === 'cgroup' ? '' : prefix;
}
