/**
 * Which breaker state on disk a delivery running as `uid` may believe, as
 * pure rules over stat results (breaker-file-store.ts does the I/O). Breaker
 * state decides whether mail is scanned, so it must be state only this uid
 * (or root) could have written: anything another local user could have made
 * or changed is ignored, which leaves the breaker closed (the mail is scanned).
 * Must not: touch the filesystem.
 */

/** The fields of a stat result these rules read. */
export interface OwnerMode {
  uid: number;
  /** st_mode: the file type bits are ignored here (callers check the type). */
  mode: number;
}

const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

/** The directory of one uid's breakers, inside [scanning] state_dir. */
export const breakerDirName = (uid: number): string => `breakers-${uid}`;

/**
 * ownStateTrusted: a per-uid directory or a breaker file inside it is this
 * uid's alone: owned by it and writable by nobody else. (Root's own entries
 * count only for root's deliveries: a file root made for someone else is not
 * that user's state.)
 */
export function ownStateTrusted(st: OwnerMode, uid: number): boolean {
  return st.uid === uid && (st.mode & GROUP_OR_OTHER_WRITE) === 0;
}

/**
 * sharedDirTrusted: the shared state_dir may hold this uid's directory when
 * nobody but root and this uid can rename entries in it: owned by root or by
 * this uid, and sticky if others may write it. A state_dir another user made
 * (first come in /var/tmp) could have this uid's directory swapped for an old
 * copy, so it is not used at all: no breakers for this uid, every delivery scans.
 */
export function sharedDirTrusted(st: OwnerMode, uid: number): boolean {
  if (st.uid !== 0 && st.uid !== uid) return false;
  return (st.mode & GROUP_OR_OTHER_WRITE) === 0 || (st.mode & STICKY) !== 0;
}
