const STYLE = `body{font:16px/1.5 system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;background:#f7f7f8;color:#111}
main{max-width:32rem;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}h1{font-size:1.3rem;margin-top:0}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export function successPage(): string {
  return page("Signed in to codex-proxy", "<h1>✔ Signed in to codex-proxy</h1><p>You can close this tab and go back to the terminal.</p>");
}

export function errorPage(message: string): string {
  return page("codex-proxy login failed", `<h1>✖ Sign-in failed</h1><p>${escapeHtml(message)}</p>`);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
