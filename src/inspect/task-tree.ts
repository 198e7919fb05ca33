/**
 * The task tree: what every live task of a loop is doing, as asyncio's `capture_call_graph`
 * and `python -m asyncio pstree` show it. Nothing is recorded for it while tasks run: the
 * tree is computed when asked, from what the tasks already hold (the future each waits on,
 * the group each belongs to), so it costs nothing until someone looks. `dumpTasks()` writes
 * it as text; `run()` prints that text when the loop is stuck, or on SIGUSR2 in debug mode.
 * @module
 */
import {
  checkOptions,
  describeValue,
  formatMs,
  type Future,
  getRunningLoop,
  isThenable,
  Loop,
  PENDING,
  runWatch,
  state,
  Task,
} from "../core/index.ts";
import { groupOf, type TaskGroup } from "../structured/group.ts";

/**
 * Where a live task is: `new` (spawned, its body not started), `ready` (queued to step),
 * `running` (stepping now: the task that asked), or `waiting` (on the future in `awaits`).
 *
 * @example
 * ```ts
 * import { run, sleep, spawn, taskTree, type TaskState } from "loopwork";
 *
 * await run(function* () {
 *   spawn(function* () { yield* sleep(100); }, { name: "nap" });
 *   yield* sleep(1);
 *   const states: TaskState[] = taskTree().map((n) => n.state);
 *   console.log(states); // [ "running", "waiting" ]
 * }, { clock: "virtual" });
 * ```
 */
export type TaskState = "new" | "ready" | "running" | "waiting";

/**
 * One live task in the tree that `taskTree()` returns.
 *
 * @example
 * ```ts
 * import { run, sleep, spawn, taskTree, type TaskNode } from "loopwork";
 *
 * await run(function* () {
 *   spawn(function* () { yield* sleep(500); }, { name: "nap" });
 *   yield* sleep(1);
 *   const [main]: TaskNode[] = taskTree();
 *   console.log(main!.name, main!.state); // main running
 *   console.log(taskTree()[1]!.awaits); // sleep until 500 ms (499 ms left)
 * }, { clock: "virtual" });
 * ```
 */
export interface TaskNode {
  /** The task itself. */
  readonly task: Task<unknown>;
  /** Its name. */
  readonly name: string;
  /** What it is doing. */
  readonly state: TaskState;
  /** How many cancellation requests are outstanding (`task.cancelling()`); 0 for most. */
  readonly cancelling: number;
  /** `"group"` for the task of a task group (which `taskGroup()` returns), else `"task"`. */
  readonly kind: "task" | "group";
  /**
   * What it waits for, in words, while `waiting`: "sleep until 1500 ms (500 ms left)",
   * "acquire Lock<locked, waiters: 1>", "get from Queue<…>", "task worker-2", "pool call
   * pool:hash on a thread worker, running for 40 ms", "a promise (until())", …
   */
  readonly awaits: string | null;
  /**
   * Where its body is, best effort: for a generator task on Node, the line it is suspended
   * at (`at work (file:///app/main.ts:12:14)`, read through `node:inspector`, and only when
   * asked for: see `TaskTreeOptions.where`); for a task not started yet, its function's
   * name. `null` when nothing can be said: an async function's position is not visible to
   * JavaScript, and Deno's inspector answers too late for a synchronous dump.
   */
  readonly where: string | null;
  /**
   * The tasks under it: a group's children, and tasks it waits on (with `yield*`, or through
   * `gather()`) that belong to no group. Oldest first.
   */
  readonly children: readonly TaskNode[];
}

/**
 * Options of `taskTree()` and `dumpTasks()`.
 *
 * @example
 * ```ts
 * import { dumpTasks, run, type TaskTreeOptions } from "loopwork";
 *
 * await run(function* () {
 *   const options: TaskTreeOptions = { where: false };
 *   console.log(dumpTasks(options));
 * });
 * ```
 */
export interface TaskTreeOptions {
  /** The loop to look at (default: the running loop). */
  loop?: Loop;
  /**
   * Find the line each generator task is suspended at, through `node:inspector` (Node only;
   * a few milliseconds per dump, and about 40 ms the first time it maps script ids to
   * files; a fraction of a millisecond per task, so only the first 1 000
   * generator tasks are located and the rest say nothing). Default: `false` for `taskTree()`,
   * `true` for `dumpTasks()`.
   */
  where?: boolean;
}

const TREE_OPTIONS = ["loop", "where"] as const;

/** @internal What a future may tell `taskTree()` about a task waiting on it. */
interface DescribesWait {
  /** What the waiting task waits for, in words. */
  _describeWait?(): string;
  /** The futures it waits on in turn (a `gather()`). */
  _awaited?(): readonly Future<unknown>[];
}

function checkTreeOptions(what: string, options: TaskTreeOptions | undefined): Loop {
  checkOptions(what, options, TREE_OPTIONS);
  const loop = options?.loop;
  if (loop !== undefined && !(loop instanceof Loop)) {
    throw new TypeError(`${what}: options.loop must be a Loop, got ${describeValue(loop)}`);
  }
  if (options?.where !== undefined && typeof options.where !== "boolean") {
    throw new TypeError(`${what}: options.where must be a boolean, got ${describeValue(options.where)}`);
  }
  return loop ?? getRunningLoop();
}

/**
 * The live tasks of the running loop (or of `options.loop`) as a tree, each with its name,
 * state, what it waits for and, on request, where its body is suspended. A group's
 * children sit under the group's task, and that task under the task waiting on the group;
 * a task waited on by another (and in no group) sits under that one; the rest are roots,
 * `run()`'s main task first. Computed when called, from the tasks as they are: nothing is
 * recorded while they run.
 *
 * @param options `loop` to look at another loop; `where: true` to find the line each
 *   generator task is suspended at (Node only)
 * @returns the roots, oldest first
 * @throws {Error} when no loop is running and no `loop` is given
 * @example
 * ```ts
 * import { Lock, run, sleep, taskGroup, taskTree } from "loopwork";
 *
 * await run(function* () {
 *   const lock = new Lock();
 *   yield* lock.acquire();
 *   yield* taskGroup(function* (tg) {
 *     tg.spawn(function* () { yield* lock.acquire(); }, { name: "locker" });
 *     yield* sleep(10);
 *     const [main] = taskTree();
 *     const group = main!.children[0]!;
 *     console.log(group.children.map((c) => `${c.name}: ${c.awaits}`));
 *     // ["locker: acquire Lock<locked, waiters: 1>"]
 *     lock.release();
 *   }, { name: "work" });
 * }, { clock: "virtual" });
 * ```
 */
export function taskTree(options?: TaskTreeOptions): TaskNode[] {
  const loop = checkTreeOptions("taskTree()", options);
  return buildTree(loop, options?.where ?? false);
}

interface MutableNode {
  task: Task<unknown>;
  name: string;
  state: TaskState;
  cancelling: number;
  kind: "task" | "group";
  awaits: string | null;
  where: string | null;
  children: MutableNode[];
}

function buildTree(loop: Loop, where: boolean): TaskNode[] {
  const tasks = loop._liveTasks();
  const live = new Set(tasks);
  const parent = new Map<Task<unknown>, Task<unknown>>();
  // Links towards the root of each tree built so far (union-find, paths halved as they are
  // walked): a long chain of waiting tasks costs linear time, not a walk up per task.
  const towardRoot = new Map<Task<unknown>, Task<unknown>>();
  const rootOf = (t: Task<unknown>): Task<unknown> => {
    for (;;) {
      const up = towardRoot.get(t);
      if (up === undefined) return t;
      const upper = towardRoot.get(up);
      if (upper !== undefined) towardRoot.set(t, upper);
      t = upper ?? up;
    }
  };
  const adopt = (child: Task<unknown>, by: Task<unknown>): void => {
    if (!live.has(child) || parent.has(child) || child === by) return;
    // `child` has no parent yet: it is the root of its tree. A task waiting (in a cycle) on
    // one of its own ancestors, whose tree it roots, stays where it is.
    if (rootOf(by) === child) return;
    parent.set(child, by);
    towardRoot.set(child, by);
  };
  // A group's children first: that is where they belong, whoever waits on them.
  for (const t of tasks) {
    const g = groupOf(t);
    if (g !== undefined) for (const c of g._tasks) adopt(c, t);
  }
  for (const t of tasks) {
    const w = t._futWaiter;
    if (w === null || fnOf(t) !== null) continue;
    if (w instanceof Task) adopt(w as Task<unknown>, t);
    else {
      const inner = (w as DescribesWait)._awaited?.();
      if (inner !== undefined) for (const f of inner) if (f instanceof Task) adopt(f as Task<unknown>, t);
    }
  }
  const locations = where ? suspendedAt(tasks) : null;
  const nodes = new Map<Task<unknown>, MutableNode>();
  for (const t of tasks) {
    const group = groupOf(t) ?? null;
    const st = stateOf(t);
    nodes.set(t, {
      task: t,
      name: t.name,
      state: st,
      cancelling: t.cancelling(),
      kind: group === null ? "task" : "group",
      awaits: st === "waiting" ? describeWait(t, group) : null,
      // A group's task runs the library's group code: where its body is says nothing.
      where: fnOf(t) !== null ? notStarted(fnOf(t)!) : group === null ? locations?.get(t) ?? null : null,
      children: [],
    });
  }
  const roots: MutableNode[] = [];
  for (const t of tasks) {
    const p = parent.get(t);
    if (p === undefined) roots.push(nodes.get(t)!);
    else nodes.get(p)!.children.push(nodes.get(t)!);
  }
  return roots;
}

/** The function of a task not started yet (its body is called at its first step), or null. */
function fnOf(t: Task<unknown>): ((signal: AbortSignal) => unknown) | null {
  return typeof t._body === "function" ? t._body : null;
}

/** The coroutine a started generator task steps (or that an async task follows), or null. */
function coroOf(t: Task<unknown>): object | null {
  return t._body !== null && typeof t._body === "object" ? t._body : null;
}

function stateOf(t: Task<unknown>): TaskState {
  if (t === state.task) return "running";
  if (fnOf(t) !== null) return "new";
  const w = t._futWaiter;
  if (w !== null) return w._state === PENDING ? "waiting" : "ready";
  // A generator between steps with no future is queued (a bare `yield`); a task with
  // neither generator nor future is an async function, at work in host code.
  return coroOf(t) !== null ? "ready" : "waiting";
}

function describeWait(t: Task<unknown>, group: TaskGroup | null): string {
  const w = t._futWaiter;
  if (w === null) return "its async function's promise";
  if (group !== null && w === group._onCompleted) {
    const n = group._tasks.size;
    return `its ${n} child task${n === 1 ? "" : "s"}`;
  }
  return describeFuture(w);
}

function describeFuture(f: Future<unknown>): string {
  if (f instanceof Task) return `${groupOf(f as Task<unknown>) !== undefined ? "task group" : "task"} ${shownName(f.name)}`;
  const d = (f as DescribesWait)._describeWait;
  if (typeof d === "function") return d.call(f);
  // until() keeps its promise in `_value` while pending.
  if (isThenable(f._value)) return "a promise (until())";
  return `${f} (a future set by hand or by a callback)`;
}

function notStarted(fn: (signal: AbortSignal) => unknown): string {
  // A function's name is whatever defineProperty made it: only a string is shown.
  const name: unknown = fn.name;
  return `not started: ${typeof name === "string" && name !== "" ? shownName(name) : "an anonymous function"}`;
}

// ---- where a generator is suspended, through node:inspector (Node only) -------------

interface InspectorSession {
  connect(): void;
  disconnect(): void;
  post(method: string, params: object, cb: (err: Error | null, result: unknown) => void): void;
  post(method: string, cb: (err: Error | null, result: unknown) => void): void;
  on(event: string, listener: (message: { params: { scriptId: string; url: string } }) => void): void;
}
interface RemoteProperty {
  name: string;
  value?: { value?: { scriptId: string; lineNumber: number; columnNumber: number }; description?: string };
}

/** Script ids to URLs, filled the first time a location is asked for (ids do not change). */
const scriptUrls = new Map<string, string>();
const HANDOFF = Symbol.for("loopwork.taskTree.generator");

/** A synchronous post: Node's in-thread session answers before `post` returns. */
function postSync<R>(session: InspectorSession, method: string, params: object): R | undefined {
  let out: R | undefined;
  session.post(method, params, (err, result) => {
    if (err === null) out = result as R;
  });
  return out;
}

function openSession(): InspectorSession | null {
  if (typeof (globalThis as { Deno?: unknown }).Deno !== "undefined") return null;
  const proc = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  const inspector = proc?.getBuiltinModule?.("node:inspector") as
    | { Session: new () => InspectorSession }
    | undefined;
  if (inspector === undefined) return null;
  const session = new inspector.Session();
  session.connect();
  return session;
}

/** How many generator tasks a tree with `where` locates (the oldest first). */
const MAX_LOCATED = 1_000;

/** Where each generator task is suspended: `at name (url:line:column)`. Best effort. */
function suspendedAt(tasks: readonly Task<unknown>[]): Map<Task<unknown>, string> {
  const out = new Map<Task<unknown>, string>();
  // Two inspector round trips per task: a dump of 100 000 waiting tasks would freeze the
  // thread for a minute (a stuck program's dump, or SIGUSR2's, would stall it further).
  const gens = tasks.filter((t) => coroOf(t) !== null && t !== state.task && groupOf(t) === undefined).slice(0, MAX_LOCATED);
  if (gens.length === 0) return out;
  let session: InspectorSession | null = null;
  const g = globalThis as Record<symbol, unknown>;
  try {
    session = openSession();
    if (session === null) return out;
    const found: Array<[Task<unknown>, string, { scriptId: string; lineNumber: number; columnNumber: number }]> = [];
    for (const t of gens) {
      g[HANDOFF] = coroOf(t);
      const ref = postSync<{ result: { objectId?: string } }>(session, "Runtime.evaluate", {
        expression: `globalThis[Symbol.for("loopwork.taskTree.generator")]`,
        objectGroup: "loopwork",
      });
      const objectId = ref?.result.objectId;
      if (objectId === undefined) return out; // not synchronous here: give up quietly
      const props = postSync<{ internalProperties?: RemoteProperty[] }>(session, "Runtime.getProperties", {
        objectId,
        ownProperties: true,
      });
      const internal = props?.internalProperties ?? [];
      const loc = internal.find((p) => p.name === "[[GeneratorLocation]]")?.value?.value;
      const fn = internal.find((p) => p.name === "[[GeneratorFunction]]")?.value?.description ?? "";
      if (loc !== undefined) found.push([t, functionName(fn), loc]);
    }
    if (found.some(([, , loc]) => !scriptUrls.has(loc.scriptId))) {
      // Enabling the debugger reports every script loaded so far, synchronously.
      session.on("Debugger.scriptParsed", (m) => scriptUrls.set(m.params.scriptId, m.params.url));
      postSync(session, "Debugger.enable", {});
      postSync(session, "Debugger.disable", {});
    }
    for (const [t, name, loc] of found) {
      const url = scriptUrls.get(loc.scriptId) ?? `script ${loc.scriptId}`;
      out.set(t, `at ${name} (${originalPosition(url, loc.lineNumber, loc.columnNumber)})`);
    }
  } catch {
    // Best effort: a dump without lines is still a dump.
  } finally {
    delete g[HANDOFF];
    if (session !== null) {
      try {
        postSync(session, "Runtime.releaseObjectGroup", { objectGroup: "loopwork" });
        session.disconnect();
      } catch {
        // nothing to release
      }
    }
  }
  return out;
}

interface SourceMapEntry {
  originalSource?: string;
  originalLine?: number;
  originalColumn?: number;
}

/**
 * `url:line:column` of a position in loaded code, mapped back to the source when the
 * code came with a source map Node knows of (TypeScript run through tsx, or any code
 * under `--enable-source-maps`); else the position in the code as it runs.
 */
function originalPosition(url: string, line: number, column: number): string {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
    const mod = proc?.getBuiltinModule?.("node:module") as
      | { findSourceMap?(path: string): { findEntry(line: number, column: number): SourceMapEntry } | undefined }
      | undefined;
    const entry = mod?.findSourceMap?.(url)?.findEntry(line, column);
    if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
      return `${shortUrl(entry.originalSource)}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
    }
  } catch {
    // no source map: the position as it runs
  }
  return `${shortUrl(url)}:${line + 1}:${column + 1}`;
}

/** A file URL under the working directory as a relative path, which reads better. */
function shortUrl(url: string): string {
  const proc = (globalThis as { process?: { cwd?(): string } }).process;
  const cwd = proc?.cwd?.();
  if (cwd === undefined || !url.startsWith("file://")) return url;
  const prefix = `file://${cwd.endsWith("/") ? cwd : cwd + "/"}`;
  return url.startsWith(prefix) ? url.slice(prefix.length) : url;
}

/** The name in a function's source text as the inspector shows it (`function* work(…`). */
function functionName(source: string): string {
  const m = /^\s*(?:async\s*)?(?:function\s*\*?\s*([\w$]*)|\*?\s*([\w$]+)\s*\()/.exec(source);
  return m?.[1] || m?.[2] || "anonymous";
}

// ---- the dump -----------------------------------------------------------------------

/**
 * The task tree of the running loop (or of `options.loop`) as indented text: one line per
 * task with its name, state and what it waits for, and, for generator tasks on Node, the
 * line it is suspended at. What a hung program should print: `run()` prints it when the
 * loop makes no progress for `dumpOnStuckMs`, and on SIGUSR2 in debug mode.
 *
 * @param options `loop` to look at another loop; `where: false` to skip the lines (which
 *   take a few milliseconds through `node:inspector`)
 * @throws {Error} when no loop is running and no `loop` is given
 * @example
 * ```ts
 * import { dumpTasks, Event, run, spawn, yieldNow } from "loopwork";
 *
 * await run(function* () {
 *   const ready = new Event();
 *   spawn(function* waiter() { yield* ready.wait(); }, { name: "waiter" });
 *   yield* yieldNow();
 *   console.log(dumpTasks({ where: false }));
 *   // 2 tasks at 0 ms (virtual clock)
 *   // main: running
 *   // waiter: waiting: wait for Event<unset, waiters: 1>
 *   ready.set();
 * }, { clock: "virtual" });
 * ```
 */
export function dumpTasks(options?: TaskTreeOptions): string {
  const loop = checkTreeOptions("dumpTasks()", options);
  const roots = buildTree(loop, options?.where ?? true);
  let count = 0;
  const lines: string[] = [];
  // Depth first, with a stack of its own rather than recursion (a chain of waiting tasks may
  // be thousands deep); past MAX_DRAWN_DEPTH the lines say their depth instead of indenting
  // further, so a dump stays linear in the number of tasks.
  const stack: { node: TaskNode; lead: string; branch: string; depth: number }[] = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push({ node: roots[i]!, lead: "", branch: "", depth: 0 });
  while (stack.length > 0) {
    const { node, lead, branch, depth } = stack.pop()!;
    count++;
    const deep = depth > MAX_DRAWN_DEPTH ? `[depth ${depth}] ` : "";
    lines.push(lead + branch + deep + describeNode(node));
    const below = depth >= MAX_DRAWN_DEPTH ? lead : lead + (branch === "" ? "" : branch === "├─ " ? "│  " : "   ");
    const kids = node.children;
    for (let i = kids.length - 1; i >= 0; i--) {
      stack.push({ node: kids[i]!, lead: below, branch: i === kids.length - 1 ? "└─ " : "├─ ", depth: depth + 1 });
    }
  }
  const time = loop.time();
  const clock = loop.isVirtual() ? "virtual clock" : "real clock";
  const head = `${count} task${count === 1 ? "" : "s"} at ${formatMs(time)} ms (${clock})`;
  return [head, ...lines].join("\n");
}

/** How deep `dumpTasks()` indents; deeper lines say their depth. */
const MAX_DRAWN_DEPTH = 40;

/** How many characters of a task's name a dump line shows. */
const MAX_SHOWN_NAME = 200;

/**
 * A task's name as a dump line shows it: its control characters escaped (see
 * `escapeControls`), and cut at MAX_SHOWN_NAME characters, saying how long it was.
 */
function shownName(name: string): string {
  return escapeControls(name.length > MAX_SHOWN_NAME ? `${name.slice(0, MAX_SHOWN_NAME)}… (${name.length} characters)` : name);
}

/**
 * `text` with its control characters (a line break, an escape sequence) escaped, so what a
 * program names (a task, a pool call) cannot draw lines of its own in a dump or repaint a
 * terminal.
 */
function escapeControls(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code === 10 ? "\\n" : code === 13 ? "\\r" : code === 9 ? "\\t" : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

function describeNode(n: TaskNode): string {
  let s = shownName(n.name);
  if (n.kind === "group") s += ` [task group, ${n.children.length} child${n.children.length === 1 ? "" : "ren"}]`;
  s += `: ${n.state}`;
  if (n.cancelling > 0) s += ` (cancelling)`;
  if (n.awaits !== null) s += `: ${escapeControls(n.awaits)}`;
  if (n.where !== null) s += ` — ${n.where}`;
  return s;
}

// ---- run()'s watch ------------------------------------------------------------------

type HostTimer = ReturnType<typeof setInterval>;
interface DenoSignals {
  addSignalListener(signal: "SIGUSR2", handler: () => void): void;
  removeSignalListener(signal: "SIGUSR2", handler: () => void): void;
  refTimer?(id: number): void;
  unrefTimer?(id: number): void;
}
interface NodeProcess {
  platform?: string;
  on(signal: "SIGUSR2", handler: () => void): unknown;
  off(signal: "SIGUSR2", handler: () => void): unknown;
}

function setRef(timer: HostTimer, ref: boolean): void {
  const deno = (globalThis as { Deno?: DenoSignals }).Deno;
  if (typeof timer === "number") {
    if (ref) deno?.refTimer?.(timer);
    else deno?.unrefTimer?.(timer);
  } else if (ref) (timer as { ref?(): void }).ref?.();
  else (timer as { unref?(): void }).unref?.();
}

/** Prints a dump of `loop`'s tasks; a failing dump must not break the program it explains. */
function printDump(loop: Loop, why: string): void {
  let text: string;
  try {
    text = dumpTasks({ loop });
  } catch (e) {
    text = `(the dump failed: ${e instanceof Error ? e.message : String(e)})`;
  }
  console.warn(`loopwork: ${why}\n${text}`);
}

/**
 * @internal `run()`'s watch over its loop: prints the task dump once the loop has run
 * nothing for `stuckMs` (0: never; again after each new stall), and on SIGUSR2 when
 * `onSignal` (Node; Deno where `Deno.addSignalListener` takes it). The watch keeps the
 * process alive only until it has printed for a stall, so a program that would exit
 * stuck still does, having said where. Returns the function that ends the watch.
 */
export function watchTasks(loop: Loop, stuckMs: number, onSignal: boolean): () => void {
  let timer: HostTimer | undefined;
  if (stuckMs > 0) {
    let seen = loop._batches;
    let since = performance.now();
    let reported = false;
    timer = setInterval(() => {
      const now = performance.now();
      if (loop._batches !== seen) {
        seen = loop._batches;
        since = now;
        if (reported) setRef(timer!, true);
        reported = false;
      } else if (!reported && now - since >= stuckMs) {
        reported = true;
        setRef(timer!, false);
        printDump(loop, `run() made no progress for ${Math.round(now - since)} ms (dumpOnStuckMs ${stuckMs}); its tasks:`);
      }
    }, Math.max(1, Math.min(stuckMs / 4, 1_000)));
  }
  let removeSignal: (() => void) | null = null;
  if (onSignal) {
    const handler = (): void => printDump(loop, "SIGUSR2: the tasks of run():");
    const deno = (globalThis as { Deno?: DenoSignals }).Deno;
    const proc = (globalThis as { process?: NodeProcess }).process;
    try {
      if (deno !== undefined) {
        deno.addSignalListener("SIGUSR2", handler);
        removeSignal = () => deno.removeSignalListener("SIGUSR2", handler);
      } else if (proc !== undefined && typeof proc.on === "function" && proc.platform !== "win32") {
        proc.on("SIGUSR2", handler);
        removeSignal = () => proc.off("SIGUSR2", handler);
      }
    } catch {
      // No such signal here (Windows, a sandbox without --allow-run): the stuck watch remains.
    }
  }
  return () => {
    if (timer !== undefined) clearInterval(timer);
    removeSignal?.();
  };
}

runWatch.start = watchTasks;
