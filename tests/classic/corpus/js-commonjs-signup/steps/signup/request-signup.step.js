const { isBlocked } = require('../../lib/blocklist.cjs')

const rateLimit = async (req, ctx, next) => {
  if (isBlocked(req.headers['x-forwarded-for'])) {
    ctx.logger.warn('blocked signup', { ip: req.headers['x-forwarded-for'] })
    return { status: 429, body: { error: 'slow down' } }
  }
  return next()
}

const config = {
  type: 'api',
  name: 'RequestSignup',
  description: 'Start a signup',
  method: 'POST',
  path: '/signups',
  middleware: [rateLimit],
  bodySchema: {
    type: 'object',
    properties: {
      email: { type: 'string', minLength: 3 },
      name: { type: 'string', minLength: 2 },
    },
    required: ['email', 'name'],
  },
  emits: ['signup.requested'],
  flows: ['signup'],
}

const handler = async (req, { emit, state, logger, traceId }) => {
  try {
    const id = crypto.randomUUID()
    const signup = { id, ...req.body, status: 'pending', traceId }
    await state.set('signups', id, signup)
    await emit({ topic: 'signup.requested', data: { id, email: req.body.email } })
    logger.info('signup requested', { id })
    return { status: 201, body: { id, status: 'pending' } }
  } catch (error) {
    logger.error('signup failed', { error: error.message })
    return { status: 500, body: { error: 'Internal server error' } }
  }
}

module.exports = { config, handler }
