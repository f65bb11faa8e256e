import { createHash } from "node:crypto";
import type { H3 } from "h3";
import { InvalidRequestError } from "../../translate/errors.js";
import { resolveModel } from "../../translate/model-name.js";
import { objectBody, ollamaChatToResponses, ollamaGenerateToResponses, stripOllamaTag, type OllamaTranslation } from "../../translate/ollama/request.js";
import { OllamaStreamTranslator, aggregateOllama, type OllamaLine } from "../../translate/ollama/stream.js";
import { ChatStreamTranslator } from "../../translate/openai-chat/stream.js";
import type { ModelInfo } from "../../translate/responses/types.js";
import type { TranslateContext } from "../../translate/responses/build.js";
import { readJsonBody } from "../body.js";
import { translateContext, type ServerContext } from "../context.js";
import { NDJSON_HEADERS } from "../stream.js";
import { answerTranslated, type TranslatingFamily } from "./_translated.js";
import { randomId } from "../../_utils/ids.js";

/** The Ollama version we answer with: recent enough for clients that gate tools and thinking on it. */
export const OLLAMA_VERSION = "0.13.0";

export function registerOllamaRoutes(app: H3, ctx: ServerContext): void {
  app.get("/api/version", () => ({ version: OLLAMA_VERSION }));
  app.get("/api/tags", async () => ({ models: (await ctx.catalog.get()).models.filter((m) => m.visible).flatMap((m) => tagEntries(m)) }));
  // nothing is ever "loaded" the way a local model is
  app.get("/api/ps", () => ({ models: [] }));
  app.post("/api/show", async (event) => {
    const body = (await readJsonBody(event, ctx.options.bodyLimit)) as Record<string, unknown>;
    const name = body?.model ?? body?.name;
    if (typeof name !== "string" || !name) throw new InvalidRequestError("`model` is required", "model", "missing_required_parameter");
    const translateCtx = await translateContext(ctx);
    const model = lookup(String(stripOllamaTag(name)), translateCtx);
    return showEntry(model, name);
  });
  app.post("/api/chat", async (event) => {
    const req = objectBody(await readJsonBody(event, ctx.options.bodyLimit));
    // no messages is how Ollama clients ask to load a model: answer at once
    if (req.messages === undefined || req.messages === null || (Array.isArray(req.messages) && !req.messages.length)) {
      return Object.assign(await preload(req, ctx), { message: { role: "assistant", content: "" }, done: true, done_reason: "load" });
    }
    return answerTranslated(event, ctx, req, chatFamily);
  });
  app.post("/api/generate", async (event) => {
    const req = objectBody(await readJsonBody(event, ctx.options.bodyLimit));
    // an empty prompt is how Ollama clients ask to load a model: answer at once
    if (!req.prompt && !(Array.isArray(req.images) && req.images.length)) {
      return Object.assign(await preload(req, ctx), { response: "", done: true, done_reason: "load" });
    }
    return answerTranslated(event, ctx, req, generateFamily);
  });
}

/** A model load (Ollama's preload): the model must exist, as it must for a real answer; nothing is sent upstream. */
async function preload(req: Record<string, unknown>, ctx: ServerContext) {
  if (typeof req.model !== "string" || !req.model) throw new InvalidRequestError("`model` is required", "model", "missing_required_parameter");
  lookup(String(stripOllamaTag(req.model)), await translateContext(ctx));
  return { model: req.model, created_at: new Date().toISOString() };
}

const ndjsonLine = (value: unknown) => `${JSON.stringify(value)}\n`;

/** Ollama chat or generate: the chat translation's chunks as NDJSON lines, the last one `done` with the counters. */
function ollamaFamily(kind: "chat" | "generate", translate: (body: unknown, translateCtx: TranslateContext) => OllamaTranslation): TranslatingFamily<OllamaTranslation, OllamaLine> {
  return {
    errors: "ollama",
    headers: NDJSON_HEADERS,
    translate,
    answer(translation) {
      const chat = new ChatStreamTranslator({ id: randomId(), created: 0, model: translation.model, reasoningFormat: translation.reasoningFormat, includeUsage: false });
      const ollama = new OllamaStreamTranslator(translation.model, kind);
      return {
        push: (e) => chat.push(e).flatMap((chunk) => ollama.push(chunk)),
        end: () => ollama.end(chat.usage),
        aggregate: aggregateOllama,
        frame: ndjsonLine,
      };
    },
    // ollama-js raises an error for a line with an `error` key
    errorFrame: ndjsonLine,
  };
}

const chatFamily = ollamaFamily("chat", ollamaChatToResponses);
const generateFamily = ollamaFamily("generate", ollamaGenerateToResponses);

function lookup(name: string, translateCtx: TranslateContext): ModelInfo {
  const resolved = resolveModel(name, translateCtx.models, true);
  return resolved.info!;
}

const digest = (slug: string) => createHash("sha256").update(slug).digest("hex");

function details(m: ModelInfo) {
  return { parent_model: "", format: "codex", family: "gpt", families: ["gpt"], parameter_size: "", quantization_level: "" };
}

/** `/api/tags` rows: the model and one per reasoning effort, tagged `latest` as Ollama lists them. */
function tagEntries(m: ModelInfo) {
  const modified = new Date(0).toISOString();
  return [m.slug, ...m.efforts.map((e) => `${m.slug}-${e}`)].map((slug) => ({
    name: `${slug}:latest`,
    model: `${slug}:latest`,
    modified_at: modified,
    size: 0,
    digest: digest(slug),
    details: details(m),
  }));
}

function showEntry(m: ModelInfo, asked: string) {
  return {
    license: "",
    modelfile: `# ${asked}: served by the ChatGPT Codex backend through codex-proxy\nFROM ${m.slug}\n`,
    parameters: "",
    template: "{{ .Prompt }}",
    details: details(m),
    model_info: { "general.architecture": "gpt", "general.basename": m.slug, "gpt.context_length": m.contextWindow ?? 0 },
    capabilities: ["completion", "tools", "thinking", ...(m.inputModalities.includes("image") ? ["vision"] : [])],
    modified_at: new Date(0).toISOString(),
  };
}
