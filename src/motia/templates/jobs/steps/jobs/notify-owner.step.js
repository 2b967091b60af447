// JavaScript event step: tells the owner what happened. Here it keeps the notices in
// state (group `notifications`); a real project would send a mail or a chat message.
const config = {
  type: 'event',
  name: 'NotifyOwner',
  description: 'Notify the owner of finished jobs and of clean-ups',
  subscribes: ['job.finished', 'jobs.cleaned'],
  emits: [],
  flows: ['jobs'],
}

const handler = async (input, { state, logger, traceId }) => {
  const text = input.status
    ? `job ${input.id} (${input.kind}) is ${input.status} after ${input.done} item(s)`
    : `${input.count} finished job(s) cleaned up`
  const at = new Date().toISOString()
  await state.set('notifications', `${at}-${traceId}`, { text, at })
  logger.info('Owner notified', { text })
}

module.exports = { config, handler }
