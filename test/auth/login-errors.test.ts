import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuthError, CallbackPortBusyError, CodexImportError, LoginCancelledError, LoginError, LoginFailedError, LoginTimeoutError, ReloginRequiredError } from "../../src/auth/errors.js";
import { exitCodeOf } from "../../src/cli/exit-code.js";
import { CliError } from "../../src/errors.js";

const authDir = join(import.meta.dirname, "../../src/auth");

describe("login errors", () => {
  it("src/auth imports nothing from the CLI: its errors carry a fix, not an exit code", () => {
    for (const file of readdirSync(authDir).filter((name) => name.endsWith(".ts"))) {
      const source = readFileSync(join(authDir, file), "utf8");
      const imports = [...source.matchAll(/^import[^;]*?from "([^"]+)"/gms)].map((match) => match[1]);
      expect(imports.filter((path) => path!.includes("/cli/")), file).toEqual([]);
      expect(source, file).not.toMatch(/\bCliError\b/);
    }
  });

  it("are plain errors with the command that starts over", () => {
    for (const error of [new LoginFailedError("x"), new LoginTimeoutError("x"), new LoginCancelledError(), new CodexImportError("x"), new CallbackPortBusyError("x", "codex-proxy login --device")]) {
      expect(error).toBeInstanceOf(LoginError);
      expect(error).not.toBeInstanceOf(CliError);
      expect(error.fix).toMatch(/^codex-proxy login/);
    }
  });

  it("the CLI maps them to its exit codes in one place: 130 for a cancelled login, 1 for the others", () => {
    expect(exitCodeOf(new LoginCancelledError())).toBe(130);
    for (const error of [new LoginFailedError("x"), new LoginTimeoutError("x"), new CodexImportError("x"), new CallbackPortBusyError("x"), new ReloginRequiredError("x"), new AuthError("x"), new Error("x")]) {
      expect(exitCodeOf(error), error.name).toBe(1);
    }
    expect(exitCodeOf(new CliError("usage", 2))).toBe(2);
  });
});
