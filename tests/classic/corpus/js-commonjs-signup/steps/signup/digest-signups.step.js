exports.config = {
  type: 'cron',
  name: 'DigestSignups',
  cron: '0 0 8 * * *',
  emits: [],
  flows: ['signup'],
}

exports.handler = async ({ state }) => {
  const signups = await state.getGroup('signups')
  await state.set('digest', 'latest', { welcomed: signups.filter((s) => s.status === 'welcomed').length })
}
