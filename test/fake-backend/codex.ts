import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FakeIssuer } from "./issuer.js";
import { writable } from "../../src/server/node.js";
import { readJwt } from "./jwt.js";
import { sseFrame, type Step } from "./events.js";
import { checkInclude, checkTool } from "./hosted.js";
import { scenarioReply } from "./scenarios.js";
import { isLimited, rateLimitHeaders, tokenIdentity, usageLimitReply, type FakeCodexAccount, type TokenIdentity } from "./identity.js";

export { PNG_1X1 } from "./hosted.js";
export { lastUserText, scenarioReply } from "./scenarios.js";
export type { FakeCodexAccount } from "./identity.js";

export interface FakeModel {
  slug: string;
  efforts: string[];
  defaultEffort: string;
  contextWindow: number;
  visibility?: "list" | "hide";
  /** the backend hides the model from older clients (`client_version` below this) */
  minimalClientVersion?: string;
  /** tiers offered besides the standard one: "priority" is Fast */
  serviceTiers?: string[];
}

/** What the fake answers to one `/responses` request: an HTTP error, or a stream of steps. */
export type Reply = { status: number; body: unknown; headers?: Record<string, string> } | { steps: Iterable<Step> } | { hang: true };

export interface RecordedResponsesCall {
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** the email of the identity whose access token made the call */
  account: string;
  /** the HTTP status the fake answered with (200 for a stream, also one that fails); 0 while it has not answered */
  status: number;
  /** the identity's usage limit answered it (`accounts[email].limitedUntil`), as a 429 or in the stream */
  limited: boolean;
  /** the client went away before the stream ended */
  aborted: boolean;
  finished: boolean;
  /** the fake has had to wait for the reader at least once (the client side stopped reading) */
  waitedForReader: boolean;
  /** how many steps of the answer were written */
  written: number;
}

/** Backend fields the real Codex backend rejects with "Unsupported parameter". */
const UNSUPPORTED = ["max_output_tokens", "max_tokens", "max_completion_tokens", "temperature", "top_p", "metadata", "user", "messages", "n", "seed", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "stop", "logit_bias"];

/**
 * A fake Codex backend (`/backend-api/codex/responses` and `/models`), strict where the real one is strict:
 * bearer token and account header, `stream:true`, `store:false`, an `instructions` string, known models and
 * efforts, flattened tools, no unresolvable item ids, no unsupported parameters. It always sends the
 * `x-codex-*` usage headers.
 */
export class FakeCodex {
  models: FakeModel[] = [
    { slug: "gpt-5.5", efforts: ["low", "medium", "high", "xhigh"], defaultEffort: "medium", contextWindow: 272_000, serviceTiers: ["priority"] },
    { slug: "gpt-5.6-sol", efforts: ["low", "medium", "high", "xhigh", "max", "ultra"], defaultEffort: "low", contextWindow: 372_000, serviceTiers: ["priority"] },
    { slug: "gpt-5.4-mini", efforts: ["low", "medium", "high", "xhigh"], defaultEffort: "medium", contextWindow: 272_000 },
    { slug: "codex-auto-review", efforts: ["low", "medium", "high", "xhigh"], defaultEffort: "medium", contextWindow: 272_000, visibility: "hide" },
  ];
  /** replies used before the default behaviour, one per request */
  readonly queue: Reply[] = [];
  /** computes the reply when the queue is empty; the default answers from `[[scenario:…]]` markers */
  respond: (body: Record<string, unknown>) => Reply = (body) => scenarioReply(body);
  readonly calls: RecordedResponsesCall[] = [];
  /** keep every call in `calls` (tests read them; a long benchmark run would only grow) */
  record = true;
  modelsCalls = 0;
  /** `/models` calls per identity, keyed by email */
  modelsCallsBy: Record<string, number> = {};
  /** answer /models with this status instead (e.g. 500 for "backend down") */
  modelsStatus = 200;
  /** used percents of every identity without usage of its own in `accounts` */
  usage = { primary: 12.5, secondary: 40 };
  /** per-identity usage, limit and plan models, keyed by email (a plain object so that tests set it over the IPC) */
  accounts: Record<string, FakeCodexAccount> = {};

  constructor(private readonly issuer: FakeIssuer) {}

  /** Set (or with `undefined` drop) one identity's state; over the IPC, where a path cannot hold an email's dots. */
  setAccount(email: string, state: FakeCodexAccount | undefined): void {
    if (state) this.accounts[email] = state;
    else delete this.accounts[email];
  }

  /** The `x-codex-*` headers for the identity of a token (by default the next login's). */
  rateLimitHeaders(identity: Pick<TokenIdentity, "email" | "plan"> = this.issuer.account): Record<string, string> {
    const state = this.accounts[identity.email];
    return rateLimitHeaders(state?.usage ?? this.usage, identity.plan, state?.limitedUntil);
  }

  /** Returns false when the path is not the backend's. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, body: string): Promise<boolean> {
    if (!path.startsWith("/backend-api/codex/")) return false;
    const auth = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    if (!auth || !this.issuer.isValidAccessToken(auth)) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ detail: "Unauthorized" }));
      return true;
    }
    const identity = tokenIdentity(auth);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...this.rateLimitHeaders(identity), "x-request-id": randomUUID(), ...headers });
      res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
    };
    const claims = readJwt(auth)?.["https://api.openai.com/auth"] as Record<string, unknown> | undefined;
    if (req.headers["chatgpt-account-id"] !== claims?.chatgpt_account_id) {
      send(403, { detail: "chatgpt-account-id does not match the token" });
      return true;
    }
    if (req.method === "GET" && path === "/backend-api/codex/models") {
      this.modelsCalls++;
      this.modelsCallsBy[identity.email] = (this.modelsCallsBy[identity.email] ?? 0) + 1;
      const offered = this.#planModels(identity).filter((m) => !olderThan(query.get("client_version") ?? "0.0.0", m.minimalClientVersion ?? "0.0.0"));
      if (!query.get("client_version")) send(400, { detail: "client_version is required" });
      else if (this.modelsStatus !== 200) send(this.modelsStatus, { detail: "models unavailable" });
      else send(200, { models: offered.map(modelInfo) });
      return true;
    }
    if (req.method === "POST" && path === "/backend-api/codex/responses") {
      await this.#responses(req, res, body, identity, send);
      return true;
    }
    send(404, { detail: "Not Found" });
    return true;
  }

  /** The models the identity's plan offers. */
  #planModels(identity: TokenIdentity): FakeModel[] {
    const offered = this.accounts[identity.email]?.models;
    return offered ? this.models.filter((m) => offered.includes(m.slug)) : this.models;
  }

  async #responses(req: IncomingMessage, res: ServerResponse, raw: string, identity: TokenIdentity, sendJson: (s: number, p: unknown, h?: Record<string, string>) => void) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return sendJson(400, { detail: "Invalid JSON body" });
    }
    const call: RecordedResponsesCall = { headers: req.headers, body, account: identity.email, status: 0, limited: false, aborted: false, finished: false, waitedForReader: false, written: 0 };
    if (this.record) this.calls.push(call);
    const send = (status: number, payload: unknown, headers?: Record<string, string>) => {
      call.status = status;
      sendJson(status, payload, headers);
    };
    const problem = this.#validate(body, this.#planModels(identity));
    if (problem) return send(400, { detail: problem });
    const state = this.accounts[identity.email];
    call.limited = isLimited(state);
    const reply = isLimited(state) ? usageLimitReply(identity.plan, state.limitedUntil, state.limitInStream === true, String(body.model)) : (this.queue.shift() ?? this.respond(body));
    if ("status" in reply) return send(reply.status, reply.body, reply.headers);
    if ("hang" in reply) return; // never answers; the socket stays open until the client gives up

    res.on("close", () => {
      if (!res.writableFinished) call.aborted = true;
    });
    // the real backend has been seen omitting content-type on its SSE body
    call.status = 200;
    res.writeHead(200, { ...this.rateLimitHeaders(identity), "x-request-id": randomUUID(), "openai-model": String(body.model), "cache-control": "no-cache" });
    for (const step of reply.steps) {
      if (call.aborted || res.destroyed) return;
      if ("pause" in step) await new Promise((r) => setTimeout(r, step.pause));
      else if ("cut" in step) {
        // let what was written reach the client first, then drop the connection
        await new Promise((r) => setTimeout(r, 30));
        return void res.socket?.destroy();
      }
      // like any real server, wait while the reader is behind instead of piling the answer up in memory
      else if (!res.write("raw" in step ? step.raw : sseFrame(step.event))) {
        call.written++;
        call.waitedForReader = true;
        await writable(res);
      } else call.written++;
    }
    call.finished = true;
    res.end();
  }

  #validate(body: Record<string, unknown>, offered: FakeModel[]): string | undefined {
    if (body.stream !== true) return "Stream must be set to true";
    if (body.store !== false) return "Store must be set to false";
    if (!("instructions" in body)) return "Instructions are required";
    if (typeof body.instructions !== "string") return "Instructions are not valid";
    for (const key of UNSUPPORTED) if (key in body) return `Unsupported parameter: ${key}`;
    // a model the plan does not offer gets the same answer as an unknown one (upstream-protocol.md §4.1)
    const model = offered.find((m) => m.slug === body.model);
    if (!model) return `The '${String(body.model)}' model is not supported when using Codex with a ChatGPT account.`;
    const effort = (body.reasoning as Record<string, unknown> | undefined)?.effort;
    if (effort !== undefined && !model.efforts.includes(String(effort))) {
      return `Unsupported value: '${String(effort)}' is not supported with the '${model.slug}' model. Supported values are: ${model.efforts.map((e) => `'${e}'`).join(", ")}.`;
    }
    if (body.service_tier !== undefined && !(model.serviceTiers ?? []).includes(String(body.service_tier))) {
      return `Unsupported value: '${String(body.service_tier)}' is not a service tier of the '${model.slug}' model.`;
    }
    const includeProblem = checkInclude(body.include);
    if (includeProblem) return includeProblem;
    if (!Array.isArray(body.input)) return "Invalid type for 'input': expected an array";
    for (const [i, item] of (body.input as Record<string, unknown>[]).entries()) {
      if (item.type === "item_reference" || (item.type === "reasoning" && item.id && !item.encrypted_content)) {
        return `Item with id '${String(item.id)}' not found. Items are not persisted when \`store\` is set to false.`;
      }
      if (item.type === "message" && item.role === "system") return "System messages are not allowed";
      if (item.type === "message") {
        if (!Array.isArray(item.content) && typeof item.content !== "string") return `Invalid 'input[${i}].content'`;
        for (const [j, part] of (Array.isArray(item.content) ? item.content : []).entries()) {
          if (!part || typeof part !== "object" || typeof (part as Record<string, unknown>).type !== "string") return `Invalid value for 'input[${i}].content[${j}]'`;
        }
      }
    }
    for (const [i, tool] of ((body.tools as Record<string, unknown>[] | undefined) ?? []).entries()) {
      const hostedProblem = checkTool(tool, i);
      if (hostedProblem) return hostedProblem;
      if ((tool.type === "function" || tool.type === "custom") && typeof tool.name !== "string") return `Missing required parameter: 'tools[${i}].name'.`;
      const format = tool.type === "custom" && typeof tool.format === "object" ? (tool.format as Record<string, unknown> | null) : undefined;
      // a freeform tool's grammar is flat here (FreeformToolFormat {type, syntax, definition}); the recorded
      // Codex CLI requests elide it to a string, so only an object is checked
      if (format && !(format.type === "text" || (format.type === "grammar" && typeof format.syntax === "string" && typeof format.definition === "string"))) {
        return `Invalid value for 'tools[${i}].format'.`;
      }
    }
    const choice = body.tool_choice as Record<string, unknown> | undefined;
    if (choice && typeof choice === "object" && choice.type !== "function" && choice.type !== "custom" && choice.type !== "allowed_tools") {
      if (!((body.tools as Record<string, unknown>[] | undefined) ?? []).some((t) => t.type === choice.type)) return `Tool choice '${String(choice.type)}' not found in 'tools' parameter.`;
    }
    return undefined;
  }
}

function modelInfo(m: FakeModel): Record<string, unknown> {
  return {
    slug: m.slug,
    display_name: m.slug.toUpperCase(),
    description: `${m.slug} (fake)`,
    default_reasoning_level: m.defaultEffort,
    supported_reasoning_levels: m.efforts.map((effort) => ({ effort, description: effort })),
    context_window: m.contextWindow,
    visibility: m.visibility ?? "list",
    supported_in_api: true,
    priority: 0,
    supports_reasoning_summaries: true,
    support_verbosity: true,
    default_verbosity: "low",
    input_modalities: ["text", "image"],
    minimal_client_version: m.minimalClientVersion ?? "0.98.0",
    // upstream-protocol.md §5.2: the catalog lists the Fast tier as {id, name, description}
    service_tiers: (m.serviceTiers ?? []).map((id) => ({ id, name: id === "priority" ? "Fast" : id, description: "1.5x speed, increased usage" })),
  };
}

/** `a` < `b` for x.y.z versions. */
function olderThan(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) if ((x![i] ?? 0) !== (y![i] ?? 0)) return (x![i] ?? 0) < (y![i] ?? 0);
  return false;
}
