/**
 * Where the built worker lives. Piscina loads it through Node's own loader, so it must be
 * JavaScript: from dist/src/ it is ../worker/index.js; from the TypeScript sources (tests run them
 * directly) it is the build in ../dist/worker/index.js, which `npm test` builds first.
 */
export function workerFilename(): string {
  const here = new URL(import.meta.url);
  const fromSource = here.pathname.endsWith('.ts');
  return new URL(fromSource ? '../dist/worker/index.js' : '../worker/index.js', here).href;
}
