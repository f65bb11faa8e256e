import type { IncomingHttpHeaders } from "node:http";

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders & Record<string, string | undefined>;
  body: string;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

export const text = (status: number, body: string, type = "text/plain"): FakeResponse => ({ status, headers: { "content-type": type }, body });

export const redirect = (location: string): FakeResponse => ({ status: 302, headers: { location } });
