// JavaScript API step: starts the `batches` pipeline.
//   POST /batches → batch.submitted → three checks in parallel (Python) → JoinChecks
//   → RouteBatch → (review) → SummarizeBatch (Python) → FormatReport (TypeScript) → stream
const config = {
  type: 'api',
  name: 'SubmitBatch',
  description: 'Accept a batch of payment records for checking',
  method: 'POST',
  path: '/batches',
  bodySchema: {
    type: 'object',
    properties: {
      records: {
        type: 'array',
        minItems: 1,
        maxItems: 1000,
        items: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            amount: { type: 'number' },
            country: { type: 'string' },
          },
          required: ['id', 'amount', 'country'],
        },
      },
    },
    required: ['records'],
    additionalProperties: false,
  },
  emits: ['batch.submitted'],
  flows: ['batches'],
}

const handler = async (req, { emit, state, streams, logger, traceId }) => {
  const id = crypto.randomUUID()
  const submittedAt = new Date().toISOString()
  const records = req.body.records
  await state.set('batches', id, { id, status: 'checking', records, submittedAt, traceId })
  await streams.batchStatus.set('batches', id, { status: 'checking', updatedAt: submittedAt })
  await emit({ topic: 'batch.submitted', data: { id, records } })
  logger.info('Batch submitted', { id, records: records.length })
  return { status: 202, body: { id, status: 'checking' } }
}

module.exports = { config, handler }
