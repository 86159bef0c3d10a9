import { connect } from 'node:net';

/** Whether something accepts connections on the unix socket at `path` (a live server, not a stale file). */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
