import assert from "node:assert/strict";
import { API_ROUTES } from "../../../daemon/api/api_types.ts";

const API_MD = new URL("../../../docs/API.md", import.meta.url);

Deno.test("docs/API.md documents every route, each with a curl --unix-socket example", async () => {
  const text = await Deno.readTextFile(API_MD);
  const sections = text.split(/^## /m);
  for (const route of API_ROUTES) {
    const [method, path] = route.split(" ");
    const section = sections.find((s) => s.startsWith(`\`${method} ${path}`));
    assert.ok(section, `a section for ${route}`);
    const example = new RegExp(
      `curl [^\\n]*--unix-socket \\$XDG_RUNTIME_DIR/tcfsd\\.sock[^\\n]*http://localhost${
        path.replaceAll("/", "\\/")
      }`,
    );
    assert.match(section, example, `a curl example for ${route}`);
    if (method === "POST" && route !== "POST /v1/reload") assert.match(section, /-X POST/);
  }
});
