export type Priority = 'high' | 'normal'

export function priorityOf(subject: string): Priority {
  return /outage|down/i.test(subject) ? 'high' : 'normal'
}
