/**
 * Checks, without `denort`, that `deno compile` would embed the whole program:
 *
 * - `deno info --json <entry>` resolves every import (no missing modules, no unmapped bare names);
 * - the program's own modules have no dynamic import whose specifier isn't a plain string (the
 *   module graph can't see those, so the binary would lack the module);
 * - the program's own modules never locate files through the source tree (`import.meta.url`,
 *   `import.meta.dirname`, `__dirname`, workers): a compiled binary has no source tree. The one
 *   exception is `new Worker(new URL("./x.ts", import.meta.url), …)` of a module that the binary
 *   embeds with `--include` (TCFS_DENO_INCLUDES), whose own graph is checked like the entry's;
 * - no npm package loads a `.wasm` file; hash-wasm in particular compiles its inlined WASM.
 *
 * Run by `scripts/compile.sh --check`:
 * `deno run --allow-read --allow-env --allow-run scripts/lib/compile_check.ts main.ts [included…]`
 *
 * @module
 */

/** One import edge as `deno info --json` reports it. */
interface InfoResolution {
  specifier?: string;
  error?: string;
}

/** One module as `deno info --json` reports it. */
interface InfoModule {
  specifier: string;
  kind?: string;
  local?: string;
  mediaType?: string;
  error?: string;
  dependencies?: { specifier: string; code?: InfoResolution; type?: InfoResolution }[];
}

/** The parts of `deno info --json` this check reads. */
interface InfoGraph {
  modules: InfoModule[];
  npmPackages: Record<string, { name: string; version: string; localPath?: string }>;
}

const scriptMediaTypes = new Set(["TypeScript", "JavaScript", "TSX", "JSX", "Mts", "Mjs"]);

/**
 * Patterns that find a file through the location of the source code. Each is a read of the
 * source tree at run time, which a compiled binary doesn't have.
 */
const sourceTreeReads: [RegExp, string][] = [
  [/\bimport\.meta\.(url|dirname|filename|resolve)\b/g, "locates a file via import.meta"],
  [/\b__(dirname|filename)\b/g, "locates a file via __dirname/__filename"],
  [/\bnew\s+Worker\s*\(/g, "starts a Worker from a module file"],
];

/** A worker started from a module named relative to the starting one. */
const workerStart =
  /\bnew\s+Worker\s*\(\s*new\s+URL\s*\(\s*(["'])([^"'\n]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** A dynamic `import(` whose argument is not one plain string literal. */
const unanalyzableImport = /\bimport\s*\(\s*(?!(["'])[^"'\n]*\1\s*[,)])/g;

/**
 * Replaces comments with spaces (keeping line breaks), so that prose mentioning
 * `import.meta.url` isn't taken for code. Strings are tracked only so that `//` inside them
 * (URLs) isn't taken for a comment; regular expression literals are not recognised.
 */
function blankComments(source: string): string {
  let out = "";
  let state: "code" | "line" | "block" | "'" | '"' | "`" = "code";
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const next = source[i + 1];
    if (state === "code") {
      if (c === "/" && next === "/") state = "line";
      else if (c === "/" && next === "*") state = "block";
      else if (c === "'" || c === '"' || c === "`") state = c;
    } else if (state === "line") {
      if (c === "\n") state = "code";
    } else if (state === "block") {
      if (c === "*" && next === "/") {
        out += "  ";
        i++;
        state = "code";
        continue;
      }
    } else if (c === "\\") {
      out += c + (next ?? "");
      i++;
      continue;
    } else if (c === state || (c === "\n" && state !== "`")) {
      state = "code";
      out += c;
      continue;
    }
    out += (state === "line" || state === "block") && c !== "\n" ? " " : c;
  }
  return out;
}

function displayPath(path: string): string {
  const cwd = `${Deno.cwd()}/`;
  return path.startsWith(cwd) ? path.slice(cwd.length) : path;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/**
 * Blanks each worker start whose module the binary embeds, and reports the others. Embedded
 * modules keep their path relative to the project, so the URL resolves inside the binary too.
 */
function checkWorkerStarts(
  local: string,
  code: string,
  included: ReadonlySet<string>,
): { code: string; problems: string[] } {
  const problems: string[] = [];
  const blanked = code.replace(workerStart, (start, _quote, specifier, offset: number) => {
    const target = new URL(specifier, `file://${local}`).pathname;
    if (!included.has(target)) {
      problems.push(
        `${displayPath(local)}:${lineOf(code, offset)}: starts a Worker from ${specifier}, ` +
          `which the binary lacks; list ${displayPath(target)} in TCFS_DENO_INCLUDES ` +
          `(scripts/lib/deno-flags.sh).`,
      );
    }
    return " ".repeat(start.length);
  });
  return { code: blanked, problems };
}

function sourceProblems(local: string, source: string, included: ReadonlySet<string>): string[] {
  const path = displayPath(local);
  const { code, problems } = checkWorkerStarts(local, blankComments(source), included);
  for (const [pattern, what] of sourceTreeReads) {
    for (const match of code.matchAll(pattern)) {
      problems.push(
        `${path}:${lineOf(code, match.index)}: ${what} (\`${match[0]}\`); a compiled binary has ` +
          `no source tree. Import the data instead (e.g. \`with { type: "json" }\`).`,
      );
    }
  }
  for (const match of code.matchAll(unanalyzableImport)) {
    problems.push(
      `${path}:${
        lineOf(code, match.index)
      }: dynamic import of a computed specifier; deno compile ` +
        `can't see the module. Import it statically, or by a string literal.`,
    );
  }
  return problems;
}

function graphProblems(graph: InfoGraph): string[] {
  const problems: string[] = [];
  for (const module of graph.modules) {
    if (module.error) problems.push(`${module.specifier}: ${module.error}`);
    for (const dependency of module.dependencies ?? []) {
      for (const resolution of [dependency.code, dependency.type]) {
        if (resolution?.error) problems.push(`${module.specifier}: ${resolution.error}`);
      }
    }
  }
  return problems;
}

async function* packageScripts(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "node_modules") yield* packageScripts(path);
    else if (entry.isFile) yield path;
  }
}

/** Files that are WASM, or scripts that name a `.wasm` file to load. */
async function wasmLoads(packageDir: string): Promise<string[]> {
  const loads: string[] = [];
  for await (const path of packageScripts(packageDir)) {
    if (path.endsWith(".wasm")) loads.push(path);
    else if (/\.[cm]?js$/.test(path) && /\.wasm["'`]/.test(await Deno.readTextFile(path))) {
      loads.push(path);
    }
  }
  return loads;
}

async function npmProblems(graph: InfoGraph): Promise<string[]> {
  const problems: string[] = [];
  for (const [id, pkg] of Object.entries(graph.npmPackages)) {
    if (!pkg.localPath) {
      problems.push(`npm:${id}: not in the npm cache, so its files can't be checked`);
      continue;
    }
    for (const path of await wasmLoads(pkg.localPath)) {
      problems.push(`npm:${id}: loads WASM from a file (${path}) instead of inlining it`);
    }
  }
  const hashWasm = Object.values(graph.npmPackages).find((pkg) => pkg.name === "hash-wasm");
  if (hashWasm?.localPath) {
    const entry = await Deno.readTextFile(`${hashWasm.localPath}/dist/index.esm.js`);
    if (!entry.includes("WebAssembly.compile")) {
      problems.push(`npm:hash-wasm@${hashWasm.version}: no inline WebAssembly.compile found`);
    }
  }
  return problems;
}

async function moduleGraph(entry: string): Promise<InfoGraph> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno info ${entry} failed:\n${new TextDecoder().decode(stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** The module graphs of the entry and of each included module, as one graph. */
async function programGraph(roots: string[]): Promise<InfoGraph> {
  const modules = new Map<string, InfoModule>();
  const npmPackages: InfoGraph["npmPackages"] = {};
  for (const root of roots) {
    const graph = await moduleGraph(root);
    for (const module of graph.modules) modules.set(module.specifier, module);
    Object.assign(npmPackages, graph.npmPackages);
  }
  return { modules: [...modules.values()], npmPackages };
}

async function main(entry: string, includes: string[]): Promise<number> {
  const graph = await programGraph([entry, ...includes]);
  const included = new Set(includes.map((path) => new URL(path, `file://${Deno.cwd()}/`).pathname));
  const local = graph.modules.filter((m) =>
    m.local && m.specifier.startsWith("file:") && scriptMediaTypes.has(m.mediaType ?? "")
  );
  const problems = [...graphProblems(graph), ...await npmProblems(graph)];
  for (const module of local) {
    const source = await Deno.readTextFile(module.local!);
    problems.push(...sourceProblems(module.local!, source, included));
  }
  if (problems.length > 0) {
    console.error(`compile check: ${entry} would not embed completely:`);
    for (const problem of problems) console.error(`  - ${problem}`);
    return 1;
  }
  console.log(
    `compile check: ${[entry, ...includes].join(" + ")}: ${graph.modules.length} modules ` +
      `(${local.length} of our own) and ` +
      `${Object.keys(graph.npmPackages).length} npm packages resolve; no computed dynamic ` +
      `imports, no source-tree reads, no WASM file loads (hash-wasm inlines its WASM).`,
  );
  return 0;
}

if (import.meta.main) {
  if (Deno.args.length < 1) {
    console.error("usage: compile_check.ts <entry module> [module embedded with --include…]");
    Deno.exit(2);
  }
  Deno.exit(await main(Deno.args[0], Deno.args.slice(1)));
}
