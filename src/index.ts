// The programmatic API: the core the CLI's commands use, the HTTP app, and the pure translators.
export { createCore, type Core, type CoreOptions } from "./core.js";
export type { AccountStore, AccountRecord, SaveResult } from "./accounts/store.js";
export type { AccountPool, PoolResponseOptions, PooledStream } from "./accounts/pool.js";
export type { Account } from "./accounts/account.js";
export { AccountNotFoundError, AmbiguousAccountError } from "./accounts/errors.js";
export { loadConfig, type Config } from "./config.js";
export { createLogger, type Logger, type LoggerOptions } from "./_utils/logger.js";
export { createApp } from "./server/app.js";
export { serveOptions, type ServeOptions, type ServerContext } from "./server/context.js";
export { startServer, type RunningServer } from "./server/listen.js";

export type { TranslateContext } from "./translate/responses/build.js";
export type { ResponsesEvent } from "./translate/responses/types.js";
export { InvalidRequestError } from "./translate/errors.js";
export { chatToResponses } from "./translate/openai-chat/request.js";
export { ChatStreamTranslator } from "./translate/openai-chat/stream.js";
export { aggregateChatChunks } from "./translate/openai-chat/aggregate.js";
export { completionsToResponses, toCompletion, toCompletionChunk } from "./translate/openai-completions/translate.js";
export { responsesToBackend } from "./translate/responses/request.js";
export { ResponseAggregator } from "./translate/responses/aggregate.js";
export { ollamaChatToResponses, ollamaGenerateToResponses } from "./translate/ollama/request.js";
export { OllamaStreamTranslator, aggregateOllama } from "./translate/ollama/stream.js";
export { messagesToResponses } from "./translate/anthropic/request.js";
export { AnthropicStreamTranslator, aggregateAnthropic } from "./translate/anthropic/stream.js";
