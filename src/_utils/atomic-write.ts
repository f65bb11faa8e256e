import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";

/** The names `writeFileAtomic` gives its temp files start with this (the token store recovers them). */
export const tempPrefix = (path: string) => `${path}.tmp-`;

export interface WriteOptions {
  /** @default 0o600 */
  mode?: number;
  /**
   * fsync before the rename, so a crash never leaves the file empty: for what cannot be had again (tokens); a
   * cache skips it (an fsync blocks the event loop, for milliseconds on a busy disk) @default true
   */
  durable?: boolean;
  /** create the directory when it is missing; a cache inside a removed account's directory must not bring it back @default true */
  createDir?: boolean;
}

/**
 * Replace `path` with `data` all at once. The temp file beside it has an unpredictable name and is created
 * exclusively (`wx`: never through a link someone planted there), with the final mode from the start, and
 * written whole (a full disk throws instead of leaving a short file). On any failure the temp file is removed
 * and `path` is left as it was.
 */
export function writeFileAtomic(path: string, data: string, { mode = 0o600, durable = true, createDir = true }: WriteOptions = {}): void {
  if (createDir) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${tempPrefix(path)}${randomBytes(8).toString("hex")}`;
  const fd = openSync(tmp, "wx", mode);
  try {
    try {
      writeFileSync(fd, data);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
