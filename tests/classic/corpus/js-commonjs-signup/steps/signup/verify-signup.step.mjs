import { z } from 'zod'

const input = z.object({ id: z.string().uuid(), email: z.string() })

export const config = {
  type: 'event',
  name: 'VerifySignup',
  subscribes: ['signup.requested'],
  emits: [{ topic: 'signup.verified', label: 'Looks real', conditional: true }],
  input,
  flows: ['signup'],
}

export const handler = async (data, { state, emit }) => {
  const { id, email } = input.parse(data)
  const signup = await state.get('signups', id)
  await state.set('signups', id, { ...signup, status: 'verified' })
  if (email.includes('@')) await emit({ topic: 'signup.verified', data: { id } })
}
