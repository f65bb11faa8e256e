import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";

/** The names `writeFileAtomic` gives its temp files start with this (the token store recovers them). */
export const tempPrefix = (path: string) => `${path}.tmp-`;

/**
 * Replace `path` with `data` all at once, durably. The temp file beside it has an unpredictable name and is
 * created exclusively (`wx`: never through a link someone planted there), with the final mode from the start,
 * written whole (a full disk throws instead of leaving a short file) and fsynced before the rename. On any
 * failure the temp file is removed and `path` is left as it was.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${tempPrefix(path)}${randomBytes(8).toString("hex")}`;
  const fd = openSync(tmp, "wx", mode);
  try {
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
