# Ruby event step: runs a job item by item, reporting progress on the jobProgress stream.
# State values arrive as records (`job['status']`, `job.status`); `to_h` gives a Hash with
# symbol keys to merge into.
# A failed attempt is retried (twice, after 1 s then 2 s); the last failure goes to the
# dead-letter queue, where the workbench's Queues panel shows it and can redrive it.
require 'time'

MAX_RETRIES = 2

def config
  {
    type: 'event',
    name: 'RunJob',
    description: 'Run a queued job with retries, reporting progress',
    subscribes: ['job.queued'],
    emits: ['job.finished'],
    input: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        kind: { type: 'string' },
        items: { type: 'integer', minimum: 1 },
        failAttempts: { type: 'integer', minimum: 0 }
      },
      required: %w[id kind items failAttempts]
    },
    flows: ['jobs'],
    infrastructure: {
      queue: { maxRetries: MAX_RETRIES, backoff: { type: 'exponential', delay: 1, jitter: false } }
    }
  }
end

def handler(input, context)
  job = context.state.get('jobs', input.id)
  return if job.nil? || job['status'] == 'cancelled'

  progress = context.streams['jobProgress']
  job = job.to_h.merge(status: 'running', attempt: context.attempt)
  context.state.set('jobs', input.id, job)
  (1..input.items).each do |done|
    if cancelled?(context, input.id)
      finish(context, input, 'cancelled', done - 1)
      return
    end
    fail_halfway(context, input, job) if done > input.items / 2 && context.attempt <= input.failAttempts
    progress.set('jobs', input.id, { kind: input.kind, status: 'running', done: done, total: input.items })
  end
  finish(context, input, 'done', input.items)
end

def cancelled?(context, id)
  context.state.get('jobs', id)['status'] == 'cancelled'
end

# Record the failure where the status API and the stream show it, then raise: the queue
# retries the job, or dead-letters it after the last attempt.
def fail_halfway(context, input, job)
  last = context.attempt > MAX_RETRIES
  status = last ? 'failed' : 'retrying'
  error = "attempt #{context.attempt} failed halfway"
  context.state.set('jobs', input.id, job.merge(status: status, lastError: error))
  context.streams['jobProgress'].set('jobs', input.id, { kind: input.kind, status: status, done: 0, total: input.items })
  raise error
end

def finish(context, input, status, done)
  job = context.state.get('jobs', input.id).to_h
  finished_at = Time.now.utc.iso8601
  context.state.set('jobs', input.id, job.merge(status: status, done: done, finishedAt: finished_at))
  context.streams['jobProgress'].set('jobs', input.id, { kind: input.kind, status: status, done: done, total: input.items })
  context.emit(topic: 'job.finished', data: { id: input.id, kind: input.kind, status: status, done: done })
  context.logger.info('Job finished', { id: input.id, status: status, done: done })
end
