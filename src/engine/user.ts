import { readFileSync } from 'node:fs';
import { BerthError } from '../errors/index.js';
import { secureJoin } from '../sys/secure-join.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function readInRoot(rootfs: string, path: string): string {
  try {
    return readFileSync(secureJoin(rootfs, path), 'utf8');
  } catch {
    return '';
  }
}

function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    if (f.length < 7 || l.startsWith('#')) return [];
    return [{ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] }];
  });
}

function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    if (f.length < 4 || l.startsWith('#')) return [];
    return [{ name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }];
  });
}

const isNum = (s: string) => /^\d+$/.test(s);

/**
 * Docker's `-u` / image `User` rules: "name", "uid", "name:group", "uid:gid"; names come from
 * the image's /etc/passwd and /etc/group (read through secureJoin), a numeric uid need not
 * exist; supplementary groups are the groups listing the user by name, plus `groupAdd`.
 */
export function resolveUser(rootfs: string, spec: string | undefined, groupAdd: string[] = []): ResolvedUser {
  const [userPart, groupPart] = (spec || '0').split(':', 2);
  const passwd = parsePasswd(readInRoot(rootfs, '/etc/passwd'));
  const groups = parseGroup(readInRoot(rootfs, '/etc/group'));
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (isNum(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new BerthError('INVALID_ARGUMENT', `unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
  }
  const groupId = (g: string): number => {
    if (isNum(g)) return Number(g);
    const found = groups.find((x) => x.name === g);
    if (!found) throw new BerthError('INVALID_ARGUMENT', `unable to find group ${g}: no matching entries in group file`);
    return found.gid;
  };
  const gid = groupPart !== undefined && groupPart !== '' ? groupId(groupPart) : (entry?.gid ?? 0);
  const additional = new Set<number>();
  if (entry && groupPart === undefined) {
    for (const g of groups) if (g.members.includes(entry.name) && g.gid !== gid) additional.add(g.gid);
  }
  for (const g of groupAdd) additional.add(groupId(g));
  return { uid, gid, additionalGids: [...additional], home: entry?.home || '/' };
}
