// TypeScript API step: type-only `motia` imports, zod schemas, responses keyed by status.
import { ApiRouteConfig, Handlers } from 'motia'
import { z } from 'zod'

export const config: ApiRouteConfig = {
  type: 'api',
  name: 'RateDocument',
  description: 'Rate a published document',
  method: 'POST',
  path: '/documents/:id/ratings',
  bodySchema: z.object({
    rating: z.number().int().min(1).max(5),
    comment: z.string().min(1).optional(),
  }),
  responseSchema: {
    201: z.object({ id: z.string(), rating: z.number() }),
    500: z.object({ error: z.string() }),
  },
  emits: [],
  flows: ['documents'],
}

export const handler: Handlers['RateDocument'] = async (req, { state, logger }) => {
  try {
    const id = req.pathParams.id
    const ratings = (await state.get<number[]>('ratings', id)) ?? []
    await state.set('ratings', id, [...ratings, req.body.rating])
    logger.info('Document rated', { id, rating: req.body.rating })
    return { status: 201, body: { id, rating: req.body.rating } }
  } catch (error: any) {
    logger.error('Could not rate the document', { error: error.message })
    return { status: 500, body: { error: error.message } }
  }
}
