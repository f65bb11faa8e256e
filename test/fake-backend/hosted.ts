// The backend's hosted tools (web search, image generation) as the fake runs them, and what it checks about them.
import type { OutputItem } from "./events.js";

/** Tool types the backend runs or hands back (upstream-protocol.md §2.3, the Responses API's hosted tools). */
const TOOL_TYPES = ["function", "custom", "web_search", "web_search_2025_08_26", "web_search_preview", "web_search_preview_2025_03_11", "image_generation", "local_shell", "namespace", "tool_search"];
const IMAGE_ENUMS: Record<string, unknown[]> = { quality: ["low", "medium", "high", "auto"], background: ["transparent", "opaque", "auto"], output_format: ["png", "webp", "jpeg"], moderation: ["auto", "low"], action: ["generate", "edit", "auto"] };
/** The `include` values the Responses API takes (the OpenAPI spec's `IncludeEnum`). */
const INCLUDABLE = ["file_search_call.results", "web_search_call.results", "web_search_call.action.sources", "message.input_image.image_url", "computer_call_output.output.image_url", "code_interpreter_call.outputs", "reasoning.encrypted_content", "message.output_text.logprobs"];
/** A real 1x1 PNG: what a client decodes must be an image. */
export const PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/** A tool the backend would refuse: an unknown type, or image settings outside the Responses API's values. */
export function checkTool(tool: Record<string, unknown>, i: number): string | undefined {
  if (!TOOL_TYPES.includes(String(tool.type))) return `Invalid value: '${String(tool.type)}'. Supported values are: ${TOOL_TYPES.map((t) => `'${t}'`).join(", ")}. (param: tools[${i}].type)`;
  if (tool.type === "image_generation") {
    for (const [field, values] of Object.entries(IMAGE_ENUMS)) {
      if (tool[field] !== undefined && !values.includes(tool[field])) return `Invalid value: '${String(tool[field])}' for 'tools[${i}].${field}'.`;
    }
    const partials = tool.partial_images;
    if (partials !== undefined && !(Number.isInteger(partials) && (partials as number) >= 0 && (partials as number) <= 3)) return `Invalid 'tools[${i}].partial_images': must be an integer from 0 to 3.`;
    if (tool.size !== undefined && !(tool.size === "auto" || /^\d+x\d+$/.test(String(tool.size)))) return `Invalid value: '${String(tool.size)}' for 'tools[${i}].size'.`;
  }
  return undefined;
}

export function checkInclude(include: unknown): string | undefined {
  for (const value of (include as unknown[] | undefined) ?? []) if (!INCLUDABLE.includes(String(value))) return `Invalid value: '${String(value)}' for 'include'.`;
  return undefined;
}

/**
 * What the model does with a hosted tool it may use: with `image_generation`, a picture of the prompt (partial
 * images when asked); with `web_search`, a search and an answer citing a source. Nothing when neither is there.
 */
export function hostedToolItems(body: Record<string, unknown>, text: string, said: string): OutputItem[] | undefined {
  const hosted = (prefix: string) => ((body.tools as Record<string, unknown>[] | undefined) ?? []).find((t) => String(t.type).startsWith(prefix));
  const imageTool = hosted("image_generation");
  if (imageTool) {
    const setting = (key: string, fallback: string) => (imageTool[key] === undefined || imageTool[key] === "auto" ? fallback : String(imageTool[key]));
    // the prompt it actually drew
    const revisedPrompt = `A picture of ${text.trim()}`;
    const image = { result: PNG_1X1, revisedPrompt, partials: Number(imageTool.partial_images ?? 0), size: setting("size", "1024x1024"), quality: setting("quality", "medium"), background: setting("background", "opaque"), outputFormat: setting("output_format", "png") };
    return [{ image }];
  }
  if (!hosted("web_search")) return undefined;
  const query = said.slice("You said: ".length) || "news";
  const url = `https://example.com/search-result?q=${encodeURIComponent(query)}`;
  const cited = `${said} ([example.com](${url}))`;
  const sources = (body.include as unknown[] | undefined)?.includes("web_search_call.action.sources") ? [url] : undefined;
  return [
    { search: { query, sources } },
    { text: cited, annotations: [{ type: "url_citation", start_index: said.length + 1, end_index: cited.length, url, title: `Result for ${query}` }] },
  ];
}
