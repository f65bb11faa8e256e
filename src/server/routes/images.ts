import type { H3, H3Event } from "h3";
import { InvalidRequestError } from "../../translate/errors.js";
import { ImageCollector, imagesToResponses, imagesUsage, type GeneratedImage, type ImageJob, type InputImage } from "../../translate/images.js";
import type { ResponsesEvent } from "../../translate/responses/types.js";
import { parseJsonBody, readRawBody } from "../body.js";
import { translateContext, type ServerContext } from "../context.js";
import { describeError, errorBody } from "../errors.js";
import { drain, jsonResponse, SSE_HEADERS, streamResponse, translateFrames } from "../stream.js";
import { openUpstream, route } from "./_shared.js";
import { cancelRequest } from "../node.js";

export function registerImagesRoutes(app: H3, ctx: ServerContext): void {
  route(app, "post", "/images/generations", (event) => images(event, ctx, false));
  route(app, "post", "/images/edits", (event) => images(event, ctx, true));
}

/** The Images API allows 16 input images on an edit. */
const MAX_IMAGES = 16;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];

async function images(event: H3Event, ctx: ServerContext, edit: boolean): Promise<unknown> {
  const bytes = (await readRawBody(event, ctx.options.bodyLimit)) ?? Buffer.alloc(0);
  const contentType = event.req.headers.get("content-type") ?? "";
  let fields: Record<string, unknown>;
  let inputs: { images: InputImage[]; mask?: InputImage } | undefined;
  if (/^multipart\/form-data/i.test(contentType)) {
    ({ fields, inputs } = await readMultipart(bytes, contentType));
  } else {
    const body = parseJsonBody(bytes.toString("utf8"));
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new InvalidRequestError("The request body must be a JSON object");
    fields = body as Record<string, unknown>;
    if (edit) inputs = jsonImages(fields);
  }
  if (edit && !inputs?.images.length) throw new InvalidRequestError("`image` is required: one or more image files to edit", "image", "missing_required_parameter");
  const translateCtx = await translateContext(ctx);
  const job = imagesToResponses(fields, translateCtx, edit ? inputs : undefined);
  const requested = typeof fields.model === "string" ? fields.model : job.request.model;
  if (job.stream) return streamImage(event, ctx, job, translateCtx, requested);
  // n images: n backend answers, side by side; when one fails, the answer is that failure and the others stop
  const answers = await Promise.all(
    Array.from({ length: job.n }, async () => {
      const upstream = await openUpstream(event, ctx, job.request, translateCtx, requested);
      const collector = new ImageCollector();
      await drain(upstream.events, (e) => collector.push(e));
      return { images: collector.result(), usage: collector.usage };
    }),
  ).catch((error: unknown) => {
    cancelRequest(event, new DOMException("Another picture of the request failed", "AbortError"));
    throw error;
  });
  const data = answers.flatMap((a) => a.images);
  const first = data[0]!;
  return jsonResponse(event, {
    created: Math.floor(Date.now() / 1000),
    data: data.map((image) => ({ b64_json: image.b64_json, ...(image.revised_prompt ? { revised_prompt: image.revised_prompt } : {}) })),
    ...settings(first),
    usage: imagesUsage(answers.map((a) => a.usage)),
  });
}

/** The picture's settings as the backend made it: size, quality, background, output format. */
function settings(image: GeneratedImage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["background", "output_format", "size", "quality"] as const) if (image[key]) out[key] = image[key]!;
  return out;
}

/** `stream: true`: the Images API's SSE events, `…partial_image` as the backend draws and `…completed` at the end. */
async function streamImage(event: H3Event, ctx: ServerContext, job: ImageJob, translateCtx: Awaited<ReturnType<typeof translateContext>>, requested: string) {
  const upstream = await openUpstream(event, ctx, job.request, translateCtx, requested);
  const collector = new ImageCollector();
  const frame = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const map = (e: ResponsesEvent): string => {
    collector.push(e);
    const created_at = Math.floor(Date.now() / 1000);
    if (e.type === "response.image_generation_call.partial_image") {
      const partial = { b64_json: String(e.partial_image_b64 ?? ""), created_at, ...pick(e), partial_image_index: Number(e.partial_image_index ?? 0) };
      return frame(`${job.kind}.partial_image`, partial);
    }
    if (e.type === "response.completed" || e.type === "response.incomplete") {
      const image = collector.result()[0]!;
      return frame(`${job.kind}.completed`, { b64_json: image.b64_json, created_at, ...settings(image), usage: imagesUsage([collector.usage]) });
    }
    return "";
  };
  const frames = await translateFrames(
    upstream.events,
    // the OpenAI SDK raises an APIError for a data object with an `error` key
    { map, fail: (reason) => [`event: error\ndata: ${JSON.stringify(errorBody("openai", describeError(reason)))}\n\n`] },
    event,
    ctx,
  );
  return streamResponse(event, frames, SSE_HEADERS);
}

function pick(e: ResponsesEvent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["size", "quality", "background", "output_format"]) if (typeof e[key] === "string") out[key] = e[key] as string;
  return out;
}

/** A multipart edit: text fields, `image` / `image[]` files (up to 16) and an optional `mask` file. */
async function readMultipart(bytes: Buffer, contentType: string): Promise<{ fields: Record<string, unknown>; inputs: { images: InputImage[]; mask?: InputImage } }> {
  let form: FormData;
  try {
    form = await new Response(new Blob([new Uint8Array(bytes)]), { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new InvalidRequestError("The multipart body could not be read", undefined, "invalid_multipart");
  }
  const fields: Record<string, unknown> = {};
  const images: InputImage[] = [];
  let mask: InputImage | undefined;
  const entries: [string, FormDataEntryValue][] = [];
  form.forEach((value, name) => entries.push([name, value]));
  for (const [name, value] of entries) {
    if (typeof value === "string") {
      fields[name] = value;
      continue;
    }
    const param = name.replace(/\[\]$/, "");
    if (param === "mask") mask = await dataUrl(value, "mask");
    else if (param === "image") images.push(await dataUrl(value, `image[${images.length}]`));
    else throw new InvalidRequestError(`Unexpected file field \`${name}\` (image and mask take files)`, name, "invalid_value");
  }
  if (images.length > MAX_IMAGES) throw new InvalidRequestError(`At most ${MAX_IMAGES} images can be edited at once`, "image", "invalid_value");
  return { fields, inputs: { images, mask } };
}

/** An uploaded file as a data URL; its type is read from its first bytes when the client did not say. */
async function dataUrl(file: Blob, param: string): Promise<InputImage> {
  const bytes = Buffer.from(await file.arrayBuffer());
  const type = IMAGE_TYPES.includes(file.type) ? file.type : sniff(bytes);
  if (!type) throw new InvalidRequestError(`\`${param}\` must be a PNG, JPEG or WebP image`, param, "invalid_image_format");
  return { url: `data:${type};base64,${bytes.toString("base64")}` };
}

function sniff(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.subarray(0, 4).toString("latin1") === "RIFF" && bytes.subarray(8, 12).toString("latin1") === "WEBP") return "image/webp";
  return undefined;
}

/** The JSON form of an edit: `images: [{image_url}]` and `mask: {image_url}` with data or https URLs. */
function jsonImages(fields: Record<string, unknown>): { images: InputImage[]; mask?: InputImage } {
  const url = (value: unknown, param: string): InputImage => {
    const u = (value as Record<string, unknown> | null)?.image_url;
    if (typeof u !== "string" || !/^(https:|data:image\/)/.test(u)) throw new InvalidRequestError(`\`${param}.image_url\` must be an https or data:image URL`, `${param}.image_url`, "invalid_value");
    return { url: u };
  };
  const raw = fields.images ?? fields.image;
  const list = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length > MAX_IMAGES) throw new InvalidRequestError(`At most ${MAX_IMAGES} images can be edited at once`, "images", "invalid_value");
  return { images: list.map((v, i) => url(v, `images[${i}]`)), mask: fields.mask ? url(fields.mask, "mask") : undefined };
}
