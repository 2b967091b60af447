"""The 1.0 step form in `types.d.ts`: trigger types, the changes state and stream triggers
deliver, the trigger helpers, and one `Handlers` entry per 1.0 step (named as the user
named it) whose input is the union of what each of its triggers gives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from motia.typegen.schema import UNKNOWN, TsType, doc_comment, indent, schema_type, ts_string, union

if TYPE_CHECKING:
    from motia.steps.model import Step

TRIGGERS_PRELUDE = """\
  /** `condition(input, ctx)`: false skips the run (recorded as skipped, not an error). */
  interface TriggerBase<TInput> {
    condition?: (input: TInput, ctx: FlowContext<any>) => boolean | Promise<boolean>;
  }

  export interface HttpTrigger extends TriggerBase<ApiRequest<any>> {
    type: 'http';
    method: ApiRouteMethod;
    path: string;
    bodySchema?: Schema;
    responseSchema?: Record<number, Schema>;
    queryParams?: readonly QueryParam[];
    middleware?: readonly ApiMiddleware<any, any>[];
    [routeOption: string]: unknown;
  }

  export interface QueueTrigger extends TriggerBase<any> {
    type: 'queue';
    topic: string;
    input?: Schema;
    config?: QueueInfrastructure;
    infrastructure?: InfrastructureConfig;
  }

  export interface CronTrigger extends TriggerBase<undefined> {
    type: 'cron';
    /** Five fields, or six with leading seconds. */
    expression: string;
  }

  export interface StateTrigger extends TriggerBase<StateChange> {
    type: 'state';
    group?: string;
    key?: string;
    /** Queue options (retries, backoff ...); the queue is always FIFO per changed key. */
    config?: QueueInfrastructure;
  }

  export interface StreamTrigger extends TriggerBase<StreamChange> {
    type: 'stream';
    streamName: string;
    groupId?: string;
    config?: QueueInfrastructure;
  }

  export type TriggerConfig =
    | HttpTrigger
    | QueueTrigger
    | CronTrigger
    | StateTrigger
    | StreamTrigger

  /** A 1.0-form step: what runs it is its triggers. */
  export interface TriggeredStepConfig {
    name: string;
    description?: string;
    flows?: readonly string[];
    triggers: readonly TriggerConfig[];
    enqueues?: readonly Emit[];
    virtualEnqueues?: readonly Emit[];
    virtualSubscribes?: readonly string[];
    includeFiles?: readonly string[];
  }

  export interface StateChange<T = unknown> {
    group: string;
    key: string;
    type: 'set' | 'update' | 'delete';
    old_value: T | null;
    new_value: T | null;
  }

  export interface StreamChange<T = unknown> {
    stream_name: string;
    group_id: string;
    id: string;
    type: 'create' | 'update' | 'delete';
    old_value: T | null;
    new_value: T | null;
  }

  export type TriggerInfo =
    | { type: 'http'; method: HttpMethod; path: string }
    | { type: 'queue'; topic: string }
    | { type: 'cron'; expression: string }
    | { type: 'state'; group?: string; key?: string }
    | { type: 'stream'; streamName: string; groupId?: string }

  export interface MatchHandlers<TResult> {
    http?: (req: ApiRequest<any>) => TResult | Promise<TResult>;
    api?: (req: ApiRequest<any>) => TResult | Promise<TResult>;
    queue?: (input: any) => TResult | Promise<TResult>;
    cron?: (input: undefined) => TResult | Promise<TResult>;
    state?: (change: StateChange) => TResult | Promise<TResult>;
    stream?: (change: StreamChange) => TResult | Promise<TResult>;
    default?: (input: any) => TResult | Promise<TResult>;
  }

  /** A 1.0-form handler: `handler(input, ctx)` whatever the trigger. */
  export type StepHandler<TInput = any, TEmit = EmitData> = (
    input: TInput,
    ctx: FlowContext<TEmit>,
  ) => Promise<any>

  type TriggerOptions<T> = Omit<T, 'type'> | NonNullable<TriggerBase<any>['condition']>
  export function http(
    method: ApiRouteMethod,
    path: string,
    options?: Omit<HttpTrigger, 'type' | 'method' | 'path'>,
  ): HttpTrigger
  export function queue(topic: string, options?: Omit<QueueTrigger, 'type' | 'topic'>): QueueTrigger
  export function cron(
    expression: string,
    options?: TriggerOptions<TriggerBase<undefined>>,
  ): CronTrigger
  export function state(options?: TriggerOptions<StateTrigger>): StateTrigger
  export function stream(
    streamName: string,
    options?: Omit<StreamTrigger, 'type' | 'streamName'>,
  ): StreamTrigger
  export function step<TConfig extends TriggeredStepConfig, THandler extends StepHandler>(
    config: TConfig,
    handler: THandler,
  ): { config: TConfig; handler: THandler }
  export function jsonSchema<T>(schema: T): T
"""


def v1_handler_entries(
    steps: list[Step], emits: dict[str, TsType], rel: dict[str, str]
) -> list[str]:
    """`'Name': StepHandler<input union, emits>` per 1.0 step; `emits` and `rel` are keyed
    by the user's step name."""
    by_name: dict[str, list[Step]] = {}
    for step in steps:
        if step.trigger is not None:
            by_name.setdefault(step.base_name or step.name, []).append(step)
    entries = []
    for name in sorted(by_name):
        members = by_name[name]
        inputs = union(_input(step) for step in members)
        kinds = ", ".join(str(step.trigger["type"]) for step in members if step.trigger)
        comment = doc_comment(f"1.0 step ({kinds}), {rel[name]}")
        arguments = ",\n  ".join(indent(arg.text) for arg in (inputs, emits[name]))
        entries.append(f"{comment}\n{ts_string(name)}: StepHandler<\n  {arguments}\n>;")
    return entries


def _input(step: Step) -> TsType:
    kind = step.trigger["type"] if step.trigger else None
    if kind == "http":
        body = schema_type(step.body_schema.json_schema) if step.body_schema else UNKNOWN
        return TsType(f"ApiRequest<{body.text}>")
    if kind == "queue":
        return schema_type(step.input_schema.json_schema) if step.input_schema else UNKNOWN
    if kind == "cron":
        return TsType("undefined")
    return TsType("StateChange" if kind == "state" else "StreamChange")
