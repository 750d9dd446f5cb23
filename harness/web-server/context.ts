/**
 * The context a web-server scenario runs in: its HTTP requests (tagged with its id), the FastCGI requests they
 * caused at the backend, how the backend answers them, and its `Check`. One instance per scenario run.
 */
import type { Level } from '../../spec/requirement.ts';
import type { RequirementId } from '../../spec/requirements.ts';
import { ScenarioSkip, type Timeouts } from '../../suites/define.ts';
import type {
  AnswerHandler,
  HttpHandle,
  HttpOutcome,
  HttpRequestPlan,
  RequestTrace,
  WebServerContext,
  WebServerScenario,
} from '../../suites/web-server/define.ts';
import { describeHttp } from '../../suites/web-server/kit.ts';
import { abortableSleep } from '../../reference/sleep.ts';
import { FindingRecorder, seededRandom } from '../context.ts';
import { HarnessError } from '../errors.ts';
import type { Backend, Binding } from './backend.ts';
import { sendHttp, urlUnder } from './http.ts';

/** The answer of a scenario that sets none: the whole STDIN, then a small 200 response. */
export const defaultAnswer: AnswerHandler = async (ex) => {
  const ended = await ex.drainStdin();
  await ex.writeCgi({
    headers: [
      ['Content-Type', 'text/plain'],
      ['X-Fcgispec-Stdin-Ended', String(ended)],
    ],
    body: `fcgispec ${ex.trace.tag?.scenario ?? ''} ${ex.trace.tag?.n ?? ''}\n`,
  });
};

/** A note of the scenario, on the backend's clock. */
export interface ContextNote {
  readonly atMs: number;
  readonly text: string;
}

/** What a context needs from the runner. */
export interface WebServerContextOptions {
  readonly scenario: Pick<WebServerScenario, 'id' | 'faults'>;
  readonly backend: Backend;
  readonly trigger: URL;
  readonly timeouts: Timeouts;
  readonly strict: boolean;
  readonly levelOf: (id: RequirementId) => Level;
  readonly seed: number;
}

/** The context of one scenario run. `abort()` is the watchdog's lever; `finish()` ends its HTTP requests. */
export class WebServerScenarioContext implements WebServerContext {
  readonly timeouts: Timeouts;
  readonly check: FindingRecorder;
  readonly notes: ContextNote[] = [];
  readonly #o: WebServerContextOptions;
  readonly #controller = new AbortController();
  readonly #random: () => number;
  readonly #inFlight = new Set<{ abort(): void }>();
  readonly #wakers = new Set<() => void>();
  #answer: AnswerHandler = defaultAnswer;
  #n = 0;
  #finished = false;

  constructor(options: WebServerContextOptions) {
    this.#o = options;
    this.timeouts = options.timeouts;
    this.check = new FindingRecorder(options.levelOf, options.strict, () => !this.#finished);
    this.#random = seededRandom(options.seed);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The backend binding of this scenario. */
  binding(): Binding {
    return {
      scenario: this.#o.scenario.id,
      faults: this.#o.scenario.faults ?? [],
      answer: (ex) => this.#answer(ex),
      onChange: () => {
        for (const wake of [...this.#wakers]) wake();
      },
    };
  }

  answer(handler: AnswerHandler): void {
    this.#answer = handler;
  }

  http(plan: HttpRequestPlan = {}): Promise<HttpOutcome> {
    return this.startHttp(plan).done;
  }

  startHttp(plan: HttpRequestPlan = {}): HttpHandle {
    this.#guard();
    const n = ++this.#n;
    const url = urlUnder(this.#o.trigger, `fcgispec/${this.#o.scenario.id}/${n}`, plan.query);
    const path = `${url.pathname}${url.search}`;
    const method = plan.method ?? 'GET';
    const body = plan.body === undefined ? '' : `, ${plan.body.length}-byte body${plan.chunks ? ' chunked' : ''}${plan.stopAfter !== undefined ? `, only ${plan.stopAfter} bytes sent` : ''}`;
    const headers = plan.headers && Object.keys(plan.headers).length > 0 ? `, headers ${Object.keys(plan.headers).join(', ')}` : '';
    this.note(`HTTP ${method} ${path.length > 160 ? `${path.slice(0, 160)}… (${path.length} chars)` : path}${body}${headers}`);
    const sent = sendHttp(plan, { url, defaultTimeoutMs: this.timeouts.replyMs * 5 });
    this.#inFlight.add(sent);
    const done = sent.done.then((outcome) => {
      this.#inFlight.delete(sent);
      if (!this.#finished) this.note(`HTTP #${n}: ${describeHttp(outcome)}`);
      return outcome;
    });
    return { path, n, done, head: sent.head, abort: sent.abort };
  }

  requests(): readonly RequestTrace[] {
    const id = this.#o.scenario.id;
    return this.#o.backend.boundRequests().filter((t) => t.tag?.scenario === id);
  }

  async waitForRequests(count: number, timeoutMs?: number): Promise<readonly RequestTrace[]> {
    this.#guard();
    await this.#waitUntil(() => this.requests().length >= count, timeoutMs ?? this.timeouts.replyMs * 2);
    return this.requests();
  }

  async waitForEnding(trace: RequestTrace, timeoutMs: number): Promise<boolean> {
    this.#guard();
    return this.#waitUntil(() => trace.ending !== undefined, timeoutMs);
  }

  management(): ReturnType<WebServerContext['management']> {
    return this.#o.backend.managementLog();
  }

  sleep(ms: number): Promise<void> {
    this.#guard();
    this.note(`sleeping ${ms} ms`);
    return abortableSleep(ms, this.signal);
  }

  note(text: string): void {
    this.notes.push({ atMs: this.#o.backend.now(), text });
  }

  skip(reason: string): never {
    throw new ScenarioSkip(reason);
  }

  randomInt(min: number, max: number): number {
    const lo = Math.ceil(Math.min(min, max));
    const hi = Math.floor(Math.max(min, max));
    return lo + Math.floor(this.#random() * (hi - lo + 1));
  }

  /** The watchdog fired. */
  abort(reason: string): void {
    this.note(reason);
    this.#controller.abort(new HarnessError('E_TIMEOUT', reason));
    this.finish();
  }

  /** Ends the scenario: later findings are ignored, HTTP requests still in flight are closed. */
  finish(): void {
    this.#finished = true;
    for (const h of [...this.#inFlight]) h.abort();
    for (const wake of [...this.#wakers]) wake();
  }

  #guard(): void {
    if (this.#finished) throw new HarnessError('E_TIMEOUT', 'the scenario is over');
  }

  // Resolves true once `ready()` holds, false at the deadline, the watchdog or the end of the scenario.
  async #waitUntil(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (ready()) return true;
      const left = deadline - performance.now();
      if (left <= 0 || this.#finished) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#wakers.add(wake);
      });
    }
  }
}
