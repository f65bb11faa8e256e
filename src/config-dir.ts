import { statSync, type Stats } from "node:fs";
import { dirname } from "node:path";

export interface DirProblem {
  problem: string;
  fix: string;
}

/**
 * Whether the config dir is fit to hold the ChatGPT login, checked as OpenSSH's StrictModes checks `~/.ssh`: it
 * (through any link) must be owned by this user and writable by nobody else. A dir that does not exist yet is
 * judged by the one it will be created in: owned by this user or root, and not writable by others unless sticky
 * (like /tmp). Another user's dir could plant tokens, read ours, or link our writes elsewhere.
 */
export function configDirProblem(dir: string): DirProblem | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined; // Windows: the profile's ACLs apply
  let path = dir;
  let stats: Stats | undefined;
  for (;;) {
    stats = statOrUndefined(path);
    if (stats || dirname(path) === path) break;
    path = dirname(path);
  }
  if (!stats) return undefined;
  const exists = path === dir;
  const who = exists ? `The config dir ${dir}` : `${path}, where the config dir ${dir} would be created,`;
  const own = `use a directory of your own (--config-dir or CODEX_PROXY_CONFIG_DIR)`;
  if (stats.uid !== uid && !(stats.uid === 0 && !exists)) {
    return {
      problem: `${who} is owned by another user (uid ${stats.uid}), so codex-proxy will not keep your ChatGPT login there`,
      // as root (sudo keeps HOME on macOS) taking the user's dir over would break their own login and service
      fix:
        uid === 0
          ? `run codex-proxy as that user (without sudo, or with \`sudo -H\`), or ${own}`
          : exists
            ? `${own}, or make it yours: chown -R ${uid} ${dir} && chmod 700 ${dir}`
            : own,
    };
  }
  const sticky = (stats.mode & 0o1000) !== 0;
  // group-writable is fine when the group is the user's own (user private groups: Fedora's umask 002)
  const othersWrite = stats.mode & 0o002 || (stats.mode & 0o020 && stats.gid !== process.getgid?.());
  if (othersWrite && !(sticky && !exists)) {
    return {
      problem: `${who} is writable by other users (mode ${(stats.mode & 0o777).toString(8)}), so codex-proxy will not keep your ChatGPT login there`,
      fix: exists ? `chmod 700 ${dir}` : `chmod go-w ${path}, or ${own}`,
    };
  }
  return undefined;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
