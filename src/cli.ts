#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import pkg from "../package.json" with { type: "json" };
import type { GlobalOptions } from "./commands/_context.js";

// `codex-proxy --help | head`: the reader left before the end, which is no failure worth a stack trace; the output
// is dropped and the command goes on (a `serve` whose log reader went away keeps serving)
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") return;
    process.nextTick(() => {
      throw error;
    });
  });
}

// Each command's module is imported only when that command runs, so `--help` and `--version` stay fast.
type Action<O> = (options: O, globals: GlobalOptions) => Promise<void>;
const lazy =
  <O>(load: () => Promise<{ run: Action<O> }>) =>
  async (options: O, command: Command) =>
    (await load()).run(options, command.optsWithGlobals<GlobalOptions>());
/** The same, for a command with one optional argument (`logout [account]`). */
type ActionWithArg<O> = (arg: string | undefined, options: O, globals: GlobalOptions) => Promise<void>;
const lazyWithArg =
  <O>(load: () => Promise<{ run: ActionWithArg<O> }>) =>
  async (arg: string | undefined, options: O, command: Command) =>
    (await load()).run(arg, options, command.optsWithGlobals<GlobalOptions>());

const program = new Command("codex-proxy")
  .description(pkg.description)
  .version(pkg.version, "-V, --version")
  .option("-v, --verbose", "debug logs (tokens are redacted)")
  .option("-q, --quiet", "only warnings and errors")
  .option("--json", "machine-readable output on stdout")
  .option("--config-dir <dir>", "where tokens and config live (env: CODEX_PROXY_CONFIG_DIR)")
  // each command's help lists the global options too (commands created below inherit this)
  .configureHelp({ showGlobalOptions: true })
  .addHelpText("after", "\nExit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C).")
  .showHelpAfterError()
  .exitOverride();

program
  .command("login")
  .description("sign in with ChatGPT (browser, device code, or import from the Codex CLI)")
  .option("--no-browser", "print the sign-in URL without opening a browser")
  .option("--device", "device-code sign-in, for machines without a browser")
  .addOption(new Option("--import [path]", "copy the Codex CLI's login (default: $CODEX_HOME/auth.json or ~/.codex/auth.json)"))
  .option("--timeout <duration>", "give up after this long (default 5m; 15m for --device)")
  .action(lazy(() => import("./commands/login.js")));

program
  .command("logout")
  .argument("[account]", "the email or account id to sign out (default: the preferred account)")
  .description("sign out one account (its tokens, usage figures and model list), or all")
  .option("--all", "sign out every account")
  .option("-y, --yes", "do not ask for confirmation")
  .action(lazyWithArg(() => import("./commands/logout.js")));

program
  .command("switch")
  .argument("[account]", "the email or account id to prefer (a menu in a terminal when left out)")
  .description("make a signed-in account the preferred one")
  .action(lazyWithArg(() => import("./commands/switch.js")));

program
  .command("status")
  .description("every signed-in account: plan, token expiry, usage limits")
  .option("--refresh", "refresh the token if due and ask the backend for current usage limits")
  .option("--timeout <duration>", "time limit of the refresh (default 10s)")
  .action(lazy(() => import("./commands/status.js")));

program
  .command("models")
  .description("the models this account can use, with context window and reasoning efforts")
  .option("--refresh", "ask the backend even when the cached list is fresh")
  .option("--timeout <duration>", "how long the backend may take before the cached list is shown (default 10s)")
  .action(lazy(() => import("./commands/models.js")));

program
  .command("doctor")
  .description("check everything that can break, and print the fix for each problem")
  .option("--no-refresh", "do not try a token refresh")
  .option("--timeout <duration>", "time limit of each network check (default 10s)")
  .action(lazy(() => import("./commands/doctor.js")));

const collect = (value: string, previous: string[] = []) => [...previous, value];
/** serve's options, shared by `serve` and `service install` */
const withServeOptions = (command: Command) =>
  command
    .option("-p, --port <port>", "port (env: CODEX_PROXY_PORT; default 8787)")
    .option("-H, --host <host>", "bind address (env: CODEX_PROXY_HOST; default 127.0.0.1)")
    .option("--api-key <key>", "require this key from clients; repeatable, each whole (env: CODEX_PROXY_API_KEY, comma-separated)", collect)
    .option("--cors <origin>", "allow browser requests from this origin (* for any); repeatable", collect)
    .option("--allowed-host <name>", "accept requests that name this host (besides loopback and --host), e.g. host.docker.internal; repeatable (env: CODEX_PROXY_ALLOWED_HOSTS)", collect)
    .option("--reasoning-effort <effort>", "default effort when a request sets none (none, minimal, low, medium, high, xhigh, max, ultra)")
    .option("--reasoning-summary <mode>", "reasoning summary: auto, concise, detailed, none (default auto)")
    .option("--reasoning-format <format>", "how chat clients see reasoning: think-tags, reasoning_content, none (default reasoning_content)")
    .option("--default-model <model>", "model for requests that name none")
    .option("--claude-model <model>", "Codex model used for claude-* model names (default: the account's first model)")
    .option("--service-tier <tier>", "priority: the Fast tier (more usage) for requests that do not choose one (env: CODEX_PROXY_SERVICE_TIER)")
    .option("--web-search", "let chat requests search the web unless they say otherwise (env: CODEX_PROXY_WEB_SEARCH)")
    .option("--account-strategy <strategy>", "with several accounts: failover (the preferred until it is limited) or round-robin (env: CODEX_PROXY_ACCOUNT_STRATEGY; default failover)")
    .option("--insecure-no-auth", "allow a non-loopback --host without an API key")
    .option("--shutdown-timeout <duration>", "how long open streams may finish after SIGTERM (default 10s)")
    .option("--body-limit <size>", "largest request body (default 50mb)")
    .option("--idle-timeout <duration>", "give up on a backend stream that sends nothing for this long (default 5m)");

withServeOptions(program.command("serve").description("start the OpenAI-, Ollama- and Anthropic-compatible server")).action(
  lazy(() => import("./commands/serve.js")),
);

const service = program.command("service").description("run serve in the background (systemd --user on Linux, launchd on macOS)");
withServeOptions(service.command("install").description("install and start the service with these serve options"))
  .option("--dry-run", "print the unit and the commands instead of running them")
  .action(async (options, command: Command) => (await import("./commands/service.js")).install(options, command.optsWithGlobals()));
service
  .command("uninstall")
  .description("stop and remove the service")
  .action(async (options, command: Command) => (await import("./commands/service.js")).uninstall(options, command.optsWithGlobals()));
service
  .command("status")
  .description("whether the service is installed, running and answering")
  .option("--show-key", "also print the API key(s) the service was installed with")
  .action(async (options, command: Command) => (await import("./commands/service.js")).status(options, command.optsWithGlobals()));
service
  .command("logs")
  .description("the service's recent log lines")
  .option("-n, --lines <n>", "how many lines (default 100)")
  .option("-f, --follow", "keep printing new lines")
  .action(async (options, command: Command) => (await import("./commands/service.js")).logs(options, command.optsWithGlobals()));

for (const command of [...program.commands, ...service.commands]) command.exitOverride().showHelpAfterError();

async function main(): Promise<number> {
  // `-v` is --verbose; alone it would only print the help, so say where the version is
  if (process.argv.slice(2).every((a) => a === "-v" || a === "--verbose") && process.argv.length > 2) {
    process.stderr.write("error: -v is --verbose (debug logs); for the version use -V or --version\n");
    return 2;
  }
  try {
    await program.parseAsync(process.argv);
    // a command may report failure without throwing (doctor, service status)
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version are successes; anything else commander rejects is a usage error
      return error.exitCode === 0 ? 0 : 2;
    }
    const { errorMessage } = await import("./errors.js");
    const { redact } = await import("./_utils/redact.js");
    const { exitCodeOf } = await import("./cli/exit-code.js");
    process.stderr.write(`✖ ${redact(errorMessage(error))}\n`);
    if (program.opts().verbose && error instanceof Error && error.stack) process.stderr.write(`${redact(error.stack)}\n`);
    return exitCodeOf(error);
  }
}

process.exitCode = await main();
// a socket stuck in a dependency must not keep a finished command alive
setTimeout(() => process.exit(), 2000).unref();
