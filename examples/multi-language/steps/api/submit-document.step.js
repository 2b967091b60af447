// JavaScript API step (CommonJS): accepts a document and starts the flow.
const config = {
  type: 'api',
  name: 'SubmitDocument',
  description: 'Accept a document for review',
  method: 'POST',
  path: '/documents',
  bodySchema: {
    type: 'object',
    properties: {
      title: { type: 'string', minLength: 1 },
      text: { type: 'string', minLength: 1 },
    },
    required: ['title', 'text'],
  },
  emits: ['document.submitted'],
  flows: ['documents'],
}

const handler = async (req, { emit, state, logger, traceId }) => {
  try {
    const id = crypto.randomUUID()
    const document = { id, title: req.body.title, text: req.body.text, traceId }
    await state.set(traceId, 'document', document)
    await emit({ topic: 'document.submitted', data: document })
    logger.info('Document submitted', { id, title: document.title })
    return { status: 201, body: { id, traceId } }
  } catch (error) {
    logger.error('Could not submit the document', { error: error.message })
    return { status: 500, body: { error: 'Could not submit the document' } }
  }
}

module.exports = { config, handler }
