"""The fixed part of `types.d.ts`: the whole `motia` module as TypeScript step files see it.

Declared in full (not as an augmentation of an npm package) so that a project type-checks
with no `motia` package installed. Schema fields take `object`, which accepts zod schemas
and JSON Schema objects alike; the precise types come from the generated `Handlers`.
"""

PRELUDE = """\
  /** A zod schema or a JSON Schema object. */
  export type Schema = object

  export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'HEAD'
  export type ApiRouteMethod = HttpMethod | Lowercase<HttpMethod>

  /** An entry of `emits`: a topic, or an object whose label is drawn on the flow graph. */
  export type Emit = string | { topic: string; label?: string; conditional?: boolean }

  /** What `emit` takes when the step's `emits` is empty (any topic). */
  export interface EmitData {
    topic: string;
    data?: unknown;
    messageGroupId?: string;
  }

  export interface QueryParam {
    name: string;
    description?: string;
  }

  interface StepConfigBase {
    name: string;
    description?: string;
    flows?: readonly string[];
    virtualEmits?: readonly Emit[];
    virtualSubscribes?: readonly string[];
    includeFiles?: readonly string[];
  }

  export interface ApiRouteConfig extends StepConfigBase {
    type: 'api';
    method: ApiRouteMethod;
    path: string;
    emits: readonly Emit[];
    bodySchema?: Schema | null;
    /** One schema per status code: `{ 201: z.object({...}), 404: ... }`. */
    responseSchema?: { readonly [status: number]: Schema };
    queryParams?: readonly QueryParam[];
    middleware?: readonly ApiMiddleware<any, any>[];
    /** A bearer token (JWT): `true`, `{ scopes: [...] }`, or `false` for an open route. */
    auth?: boolean | { scopes?: readonly string[] };
    /** Seconds the handler may take; then the client gets 504. */
    timeout?: number;
    /** `false` removes the security headers; a mapping changes them (`false` removes one). */
    securityHeaders?: boolean | { readonly [name: string]: string | false | null };
    /** This route's CORS policy, in place of `http.cors.*`; `false`: no CORS. */
    cors?:
      | false
      | {
          origins: readonly string[];
          credentials?: boolean;
          methods?: readonly string[];
          headers?: readonly string[];
          exposeHeaders?: readonly string[];
          maxAge?: number;
        };
    compression?: boolean;
    /** Bytes, or a size such as `'50mb'`, in place of `http.maxBodySize`. */
    maxBodySize?: number | string;
    /** `requests` per `per` (seconds, or '10s', '1m', '1h', '1d') for each client; `false`:
     *  exempt from the project's `http.rateLimit`. */
    rateLimit?: { requests: number; per: number | string; by?: string } | false;
  }

  export interface HandlerInfrastructure {
    ram?: number;
    cpu?: number;
    /** Seconds; a run that takes longer fails. */
    timeout?: number;
  }

  export interface QueueInfrastructure {
    type?: 'standard' | 'fifo';
    maxRetries?: number;
    visibilityTimeout?: number;
    delaySeconds?: number;
    concurrency?: number;
    backoff?: {
      type?: 'exponential' | 'fixed';
      delay?: number;
      maxDelay?: number;
      jitter?: boolean;
    };
  }

  export interface InfrastructureConfig {
    handler?: HandlerInfrastructure;
    queue?: QueueInfrastructure;
  }

  export interface EventConfig extends StepConfigBase {
    type: 'event';
    subscribes: readonly string[];
    emits: readonly Emit[];
    input?: Schema | null;
    infrastructure?: InfrastructureConfig;
  }

  export interface CronConfig extends StepConfigBase {
    type: 'cron';
    /** Five fields, or six with leading seconds. */
    cron: string;
    emits: readonly Emit[];
  }

  export interface NoopConfig extends StepConfigBase {
    type: 'noop';
    emits?: readonly Emit[];
    virtualEmits: readonly Emit[];
    virtualSubscribes: readonly string[];
  }

  export type StepConfig =
    | ApiRouteConfig
    | EventConfig
    | CronConfig
    | NoopConfig
    | TriggeredStepConfig

  export interface StreamSubscription {
    groupId: string;
    id?: string;
  }

  export interface StreamConfig {
    name: string;
    schema?: Schema | null;
    /** `ttl`: seconds an item lives after its last change. */
    baseConfig?: { storageType: 'default'; ttl?: number };
    canAccess?: (subscription: StreamSubscription, authContext: any) => boolean | Promise<boolean>;
  }

  export interface ApiRequest<TBody = unknown> {
    body: TBody;
    headers: Record<string, string>;
    pathParams: Record<string, string>;
    queryParams: Record<string, string | string[]>;
    rawBody: string;
    /** The verified token claims, on steps with `auth` only. */
    auth?: Record<string, any>;
    /** The client, behind trusted proxies too. */
    client?: { ip: string; scheme: string };
  }

  /** `body` may be left out only when its type allows `undefined`. */
  export type ApiResponse<TStatus extends number = number, TBody = unknown> = {
    status: TStatus;
    headers?: Record<string, string | readonly string[]>;
  } & (undefined extends TBody ? { body?: TBody } : { body: TBody })

  export interface Logger {
    info(message: string, fields?: Record<string, any>): void;
    warn(message: string, fields?: Record<string, any>): void;
    error(message: string, fields?: Record<string, any>): void;
    debug(message: string, fields?: Record<string, any>): void;
    log(message: string | Record<string, any>, fields?: Record<string, any>): void;
  }

  export interface InternalStateManager {
    get<T = unknown>(groupId: string, key: string): Promise<T | null>;
    set<T>(groupId: string, key: string, value: T): Promise<T>;
    delete<T = unknown>(groupId: string, key: string): Promise<T | null>;
    getGroup<T = unknown>(groupId: string): Promise<T[]>;
    clear(groupId: string): Promise<void>;
    /** Applies operations to a value and resolves to the new one. */
    update<T = unknown>(groupId: string, key: string, ops: readonly StreamUpdateOp[]): Promise<T>;
    list<T = unknown>(groupId: string): Promise<T[]>;
    listGroups(): Promise<string[]>;
  }

  export type StateManager = InternalStateManager

  export type StreamUpdateOp =
    | { type: 'set'; path: string | readonly string[]; value: unknown }
    | { type: 'merge'; path?: string | readonly string[]; value: object }
    | { type: 'increment' | 'decrement'; path: string | readonly string[]; by?: number }
    | { type: 'remove'; path: string | readonly string[] }

  /** A stored item: its data, its id, and the marker clients use to subscribe to it. */
  export type StreamItem<TData> = TData & {
    id: string;
    __motia?: { type: 'state-stream'; streamName: string; groupId: string; id: string };
  }

  export interface MotiaStream<TData> {
    get(groupId: string, id: string): Promise<StreamItem<TData> | null>;
    set(groupId: string, id: string, data: TData): Promise<StreamItem<TData>>;
    update(groupId: string, id: string, ops: readonly StreamUpdateOp[]): Promise<StreamItem<TData>>;
    delete(groupId: string, id: string): Promise<StreamItem<TData> | null>;
    getGroup(groupId: string): Promise<StreamItem<TData>[]>;
    /** An event for the subscribers of a group (or one item); nothing is stored. */
    send<TEvent = unknown>(
      channel: StreamSubscription,
      event: { type: string; data?: TEvent },
    ): Promise<void>;
  }

  export type IStateStream<TData> = MotiaStream<TData>

  /** Scheduling an emit: fire after `delay` seconds or `at` a moment (a Date, or an
   * ISO-8601 string with an offset); a second emit with the same `key` on the topic
   * replaces the pending one. */
  export interface EmitSchedule {
    delay?: number;
    at?: Date | string;
    key?: string;
  }

  /** Resolves to the message id, which `cancel` takes. */
  export type Emitter<TEmit> = (event: TEmit & EmitSchedule) => Promise<string>

  /** Cancels a pending scheduled emit by its id or its key; true when one was cancelled. */
  export type Canceller = (target: string | { key: string; topic?: string }) => Promise<boolean>

  export interface FlowContext<TEmit = EmitData> {
    /** Emits to a topic in the step's `emits`; delivered when the run succeeds. */
    emit: Emitter<TEmit>;
    cancel: Canceller;
    traceId: string;
    flows: string[];
    state: InternalStateManager;
    logger: Logger;
    streams: FlowContextStateStreams;
    /** `emit` under its 1.0 name. */
    enqueue: Emitter<TEmit>;
    /** In a 1.0-form step: the trigger that fired. */
    trigger?: TriggerInfo;
    isApi(): boolean;
    isQueue(): boolean;
    isCron(): boolean;
    isState(): boolean;
    isStream(): boolean;
    /** The body (http), the message (queue), the change (state, stream). */
    getData<T = unknown>(): T;
    match<TResult>(handlers: MatchHandlers<TResult>): TResult | Promise<TResult>;
  }

  export type ApiRouteHandler<
    TBody = unknown,
    TResponse = ApiResponse,
    TEmit = EmitData,
  > = (req: ApiRequest<TBody>, ctx: FlowContext<TEmit>) => Promise<TResponse>

  export type ApiMiddleware<TBody = any, TEmit = EmitData> = (
    req: ApiRequest<TBody>,
    ctx: FlowContext<TEmit>,
    next: () => Promise<ApiResponse<number, any>>,
  ) => Promise<ApiResponse<number, any>>

  export type EventHandler<TInput = unknown, TEmit = EmitData> = (
    input: TInput,
    ctx: FlowContext<TEmit>,
  ) => Promise<void>

  export type CronHandler<TEmit = EmitData> = (ctx: FlowContext<TEmit>) => Promise<void>
"""
