// TypeScript API step: queues a job for the Ruby worker step.
//   POST /jobs (TypeScript) → job.queued → RunJob (Ruby, retried, progress on a stream)
//   → job.finished → NotifyOwner (JavaScript); CleanJobs (Python cron) → jobs.cleaned
import { ApiRouteConfig, Handlers } from 'motia'
import { z } from 'zod'

export const config: ApiRouteConfig = {
  type: 'api',
  name: 'CreateJob',
  description: 'Queue a job',
  method: 'POST',
  path: '/jobs',
  bodySchema: z.object({
    kind: z.enum(['thumbnails', 'report']),
    items: z.number().int().min(1).max(100),
    // For trying retries and dead letters: the first N attempts fail halfway.
    failAttempts: z.number().int().min(0).max(10).default(0),
  }),
  responseSchema: {
    202: z.object({ id: z.string(), status: z.string() }),
  },
  emits: ['job.queued'],
  flows: ['jobs'],
}

export const handler: Handlers['CreateJob'] = async (req, { emit, state, streams, traceId }) => {
  const id = crypto.randomUUID()
  const { kind, items } = req.body
  const failAttempts = req.body.failAttempts ?? 0
  const queuedAt = new Date().toISOString()
  await state.set('jobs', id, { id, kind, items, status: 'queued', done: 0, queuedAt, traceId })
  await streams.jobProgress.set('jobs', id, { kind, status: 'queued', done: 0, total: items })
  await emit({ topic: 'job.queued', data: { id, kind, items, failAttempts } })
  return { status: 202, body: { id, status: 'queued' } }
}
