import { InvalidRequestError, expectType } from "./errors.js";
import { buildResponsesRequest, type TranslateContext } from "./responses/build.js";
import type { ResponsesEvent, ResponsesRequest, ResponsesUsage } from "./responses/types.js";

// The Images API (`/v1/images/generations`, `/v1/images/edits`) over the backend's hosted `image_generation` tool.

export interface ImageJob {
  request: ResponsesRequest;
  n: number;
  stream: boolean;
  /** stream event names: `image_generation.*` or `image_edit.*` */
  kind: "image_generation" | "image_edit";
}

/** An input image, already a data URL. */
export interface InputImage {
  url: string;
}

const ENUMS: Record<string, string[]> = {
  background: ["transparent", "opaque", "auto"],
  output_format: ["png", "jpeg", "webp"],
  moderation: ["low", "auto"],
  input_fidelity: ["high", "low"],
};
// the dall-e qualities, as the closest gpt-image ones
const QUALITY: Record<string, string> = { low: "low", medium: "medium", high: "high", auto: "auto", standard: "auto", hd: "high" };

/** A number field of JSON or multipart (where every field is a string). */
function integer(value: unknown, param: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new InvalidRequestError(`\`${param}\` must be an integer from ${min} to ${max}`, param, "invalid_value");
  }
  return n;
}

function flag(value: unknown, param: string): boolean {
  if (value === undefined || value === null || value === "" || value === false || value === "false") return false;
  if (value === true || value === "true") return true;
  throw new InvalidRequestError(`\`${param}\` must be a boolean`, param, "invalid_type");
}

/**
 * Images API fields → a Responses request whose only tool is `image_generation`, with the picture settings on
 * the tool. `images` (edits) go in as input images beside the prompt; `mask` becomes `input_image_mask`.
 */
export function imagesToResponses(
  fields: Record<string, unknown>,
  ctx: TranslateContext,
  edit?: { images: InputImage[]; mask?: InputImage },
): ImageJob {
  if (fields.prompt === undefined || fields.prompt === null || fields.prompt === "") {
    throw new InvalidRequestError("`prompt` is required", "prompt", "missing_required_parameter");
  }
  expectType(fields.prompt, "string", "prompt");
  const prompt = fields.prompt as string;
  if (prompt.length > 32_000) throw new InvalidRequestError("`prompt` is longer than 32000 characters", "prompt", "invalid_value");
  const n = integer(fields.n, "n", 1, 10) ?? 1;
  const stream = flag(fields.stream, "stream");
  if (stream && n > 1) throw new InvalidRequestError("A streamed request makes one image: `n` must be 1 with `stream`", "n", "invalid_value");
  if (fields.response_format === "url") {
    throw new InvalidRequestError('`response_format: "url"` is not supported: images come back inline as `b64_json` (the backend keeps no files)', "response_format", "invalid_value");
  }
  if (fields.response_format !== undefined && fields.response_format !== null && fields.response_format !== "b64_json") {
    throw new InvalidRequestError("`response_format` must be b64_json", "response_format", "invalid_value");
  }

  const tool: Record<string, unknown> = { type: "image_generation" };
  for (const [field, values] of Object.entries(ENUMS)) {
    const value = fields[field];
    if (value === undefined || value === null || value === "") continue;
    if (!values.includes(value as string)) throw new InvalidRequestError(`\`${field}\` must be one of ${values.join(", ")}`, field, "invalid_value");
    tool[field] = value;
  }
  if (fields.quality !== undefined && fields.quality !== null && fields.quality !== "") {
    const quality = QUALITY[fields.quality as string];
    if (!quality) throw new InvalidRequestError(`\`quality\` must be one of ${Object.keys(QUALITY).join(", ")}`, "quality", "invalid_value");
    tool.quality = quality;
  }
  if (fields.size !== undefined && fields.size !== null && fields.size !== "") {
    if (typeof fields.size !== "string" || !(fields.size === "auto" || /^\d{2,5}x\d{2,5}$/.test(fields.size))) {
      throw new InvalidRequestError("`size` must be auto or WIDTHxHEIGHT, e.g. 1024x1024", "size", "invalid_value");
    }
    tool.size = fields.size;
  }
  const compression = integer(fields.output_compression, "output_compression", 0, 100);
  if (compression !== undefined) tool.output_compression = compression;
  const partials = integer(fields.partial_images, "partial_images", 0, 3);
  // partial images exist only in a stream
  if (stream && partials) tool.partial_images = partials;
  if (edit?.mask) tool.input_image_mask = { image_url: edit.mask.url };

  const content: Record<string, unknown>[] = [{ type: "input_text", text: prompt }];
  for (const image of edit?.images ?? []) content.push({ type: "input_image", image_url: image.url, detail: "auto" });
  const request = buildResponsesRequest(
    {
      model: codexModel(fields.model, ctx),
      instructions: [
        edit
          ? "Edit the attached image(s) as the user asks, with the image_generation tool. Do not answer in text."
          : "Draw the image the user describes with the image_generation tool. Do not answer in text.",
      ],
      input: [{ type: "message", role: "user", content }],
      tools: [tool],
      toolChoice: { type: "image_generation" },
      // the picture is the tool's work: the model only has to pass the prompt on
      effort: [{ value: "low", param: "model" }],
      summary: "none",
    },
    ctx,
  );
  return { request, n, stream, kind: edit ? "image_edit" : "image_generation" };
}

/** An image model name (`gpt-image-1`, `dall-e-3`) is not a Codex model: the default model runs the tool. */
function codexModel(model: unknown, ctx: TranslateContext): string | undefined {
  if (typeof model === "string" && ctx.models.some((m) => model.toLowerCase().startsWith(m.slug.toLowerCase()))) return model;
  return ctx.defaults.model ?? ctx.models.find((m) => m.visible)?.slug;
}

export interface GeneratedImage {
  b64_json: string;
  revised_prompt?: string;
  size?: string;
  quality?: string;
  background?: string;
  output_format?: string;
}

/** Collects one backend answer: its images, any text the model wrote instead, and usage. */
export class ImageCollector {
  images: GeneratedImage[] = [];
  text = "";
  usage: ResponsesUsage | undefined;

  push(event: ResponsesEvent): void {
    const item = event.item as Record<string, unknown> | undefined;
    if (event.type === "response.output_item.done" && item?.type === "image_generation_call" && typeof item.result === "string" && item.result) {
      const image: GeneratedImage = { b64_json: item.result };
      for (const key of ["revised_prompt", "size", "quality", "background", "output_format"] as const) if (typeof item[key] === "string") image[key] = item[key];
      this.images.push(image);
    } else if (event.type === "response.output_text.delta") this.text += String(event.delta ?? "");
    else if (event.type === "response.completed" || event.type === "response.incomplete") {
      this.usage = ((event.response as Record<string, unknown> | undefined)?.usage as ResponsesUsage | undefined) ?? undefined;
    }
  }

  /** The images, or an error that says why there are none (the model's own words, when it wrote any). */
  result(): GeneratedImage[] {
    if (this.images.length) return this.images;
    const said = this.text.trim();
    throw new InvalidRequestError(
      `The backend made no image${said ? `; the model said: ${said.slice(0, 500)}` : ""}`,
      "prompt",
      "image_generation_failed",
    );
  }
}

/** The Images API's usage, summed over the answers (the backend reports text and image tokens together). */
export function imagesUsage(usages: (ResponsesUsage | undefined)[]): Record<string, unknown> {
  const sum = (get: (u: ResponsesUsage) => number | undefined) => usages.reduce((total, u) => total + (u ? (get(u) ?? 0) : 0), 0);
  const input = sum((u) => u.input_tokens);
  const output = sum((u) => u.output_tokens);
  return { total_tokens: input + output, input_tokens: input, output_tokens: output, input_tokens_details: { text_tokens: input, image_tokens: 0 } };
}
