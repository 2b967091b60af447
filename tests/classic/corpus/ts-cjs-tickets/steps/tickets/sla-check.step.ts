import { CronConfig, Handlers } from 'motia'

export const config: CronConfig = {
  type: 'cron',
  name: 'SlaCheck',
  cron: '*/5 * * * *',
  emits: [],
  flows: ['helpdesk'],
}

export const handler: Handlers['SlaCheck'] = async ({ state, logger }) => {
  const tickets = await state.getGroup<{ status: string }>('tickets')
  const open = tickets.filter((t) => t.status === 'triaged').length
  await state.set('sla', 'open', open)
  logger.info('sla check', { open })
}
