// The internal language: a Responses API request and its stream of events, which is what the backend speaks.

/** A Responses API stream event: `type` plus whatever that type carries. */
export type ResponsesEvent = { type: string } & Record<string, unknown>;

export type InputItem = Record<string, unknown> & { type: string };

export interface ResponsesRequest {
  model: string;
  instructions: string;
  input: InputItem[];
  tools?: Record<string, unknown>[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  reasoning?: { effort?: string; summary?: string } | null;
  store: false;
  stream: true;
  include: string[];
  prompt_cache_key: string;
  text?: { verbosity?: string; format?: Record<string, unknown> };
  service_tier?: string;
  [key: string]: unknown;
}

/** Response usage as the backend reports it in `response.completed`. */
export interface ResponsesUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
  output_tokens_details?: { reasoning_tokens?: number } | null;
}

/** A Codex model as the backend's `/models` describes it, reduced to what the proxy uses. */
export interface ModelInfo {
  slug: string;
  displayName: string;
  contextWindow: number | null;
  /** reasoning efforts the model accepts, e.g. ["low","medium","high","xhigh"] */
  efforts: string[];
  defaultEffort: string | null;
  supportsSummaries: boolean;
  supportsVerbosity: boolean;
  inputModalities: string[];
  /** shown in model pickers (the backend hides internal models) */
  visible: boolean;
  priority: number;
  /** the oldest Codex CLI version the backend shows the model to (`minimal_client_version`) */
  minimalClientVersion?: string;
  /** service tiers the model offers besides the standard one (`service_tiers[].id`, e.g. "priority" = Fast) */
  serviceTiers?: string[];
}

