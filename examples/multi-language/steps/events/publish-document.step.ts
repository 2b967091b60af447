// TypeScript event step: publishes the result to state and to the live stream.
import { EventConfig, Handlers } from 'motia'
import { z } from 'zod'

const scoredDocument = z.object({
  id: z.string(),
  title: z.string(),
  category: z.string(),
  score: z.number().min(0).max(100),
})

export const config: EventConfig = {
  type: 'event',
  name: 'PublishDocument',
  description: 'Publish a scored document',
  subscribes: ['document.scored'],
  emits: [],
  input: scoredDocument,
  flows: ['documents'],
}

export const handler: Handlers['PublishDocument'] = async (input, { state, streams, logger, traceId }) => {
  const status = input.score >= 50 ? 'approved' : 'needs-review'
  await state.set(traceId, 'published', { ...input, status })
  await streams['document-status'].set('documents', input.id, {
    title: input.title,
    category: input.category,
    score: input.score,
    status,
  })
  logger.info('Document published', { id: input.id, status })
}
