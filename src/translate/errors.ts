/** The client sent something the proxy cannot use; each route family renders it as its own 400. */
export class InvalidRequestError extends Error {
  override name = "InvalidRequestError";
  readonly status: number;
  constructor(
    message: string,
    /** where in the request, e.g. `messages[2].content` */
    readonly param?: string,
    readonly code?: string,
    status = 400,
  ) {
    super(message);
    this.status = status;
  }
}

/** A type check with an error that names the field. */
export function expectType(value: unknown, type: "string" | "number" | "boolean" | "object" | "array", param: string): void {
  const actual = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  if (actual !== type) throw new InvalidRequestError(`\`${param}\` must be ${type === "array" || type === "object" ? "an" : "a"} ${type}, got ${actual}`, param, "invalid_type");
}
