import { ApiRouteConfig, Handlers } from 'motia'
import { z } from 'zod'

export const config: ApiRouteConfig = {
  type: 'api',
  name: 'CreateContact',
  method: 'POST',
  path: '/contacts',
  bodySchema: z.object({
    email: z.string().email(),
    homepage: z.string().url(),
    nickname: z.string().min(3),
    tags: z.array(z.string().min(2)).optional(),
  }),
  emits: [],
  flows: ['hello'],
}

export const handler: Handlers['CreateContact'] = async (req, { state }) => {
  await state.set('contacts', req.body.email, req.body)
  return { status: 201, body: { saved: true } }
}
