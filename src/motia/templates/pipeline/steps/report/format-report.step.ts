// TypeScript event step: turns the Python summary into report lines for people and pushes
// them to the `batchStatus` stream, where a browser shows them.
import { EventConfig, Handlers } from 'motia'

export const config: EventConfig = {
  type: 'event',
  name: 'FormatReport',
  description: 'Format the summary of a batch and publish it',
  subscribes: ['batch.summarized'],
  emits: [],
  input: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      count: { type: 'integer' },
      total: { type: 'number' },
      countries: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            country: { type: 'string' },
            count: { type: 'integer' },
            total: { type: 'number' },
          },
          required: ['country', 'count', 'total'],
        },
      },
    },
    required: ['id', 'count', 'total', 'countries'],
  },
  flows: ['batches'],
}

const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

export const handler: Handlers['FormatReport'] = async (input, { state, streams, logger }) => {
  const report = [
    `${input.count} record(s), ${money.format(input.total)} in all`,
    ...input.countries.map(
      (c) => `${c.country}: ${money.format(c.total)} in ${c.count} record(s)`,
    ),
  ]
  const batch = await state.get<Record<string, unknown>>('batches', input.id)
  const updatedAt = new Date().toISOString()
  await state.set('batches', input.id, { ...batch, status: 'reported', report, updatedAt })
  await streams.batchStatus.set('batches', input.id, { status: 'reported', report, updatedAt })
  logger.info('Batch reported', { id: input.id, lines: report.length })
}
