import { ApiRouteConfig, Handlers } from 'motia'
import { greetingFor } from './lib/greeting'

export const config: ApiRouteConfig = {
  type: 'api',
  name: 'HelloAPI',
  description: 'Says hello and asks for the greeting to be stored',
  method: 'GET',
  path: '/hello',
  queryParams: [{ name: 'name', description: 'Who to greet' }],
  emits: ['greeting.requested'],
  flows: ['hello'],
}

export const handler: Handlers['HelloAPI'] = async (req, { emit, logger, traceId }) => {
  const name = String(req.queryParams.name ?? 'world')
  await emit({ topic: 'greeting.requested', data: { name } })
  logger.info('hello', { name })
  return { status: 200, body: { message: greetingFor(name), traceId } }
}
