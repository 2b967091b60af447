import { config } from 'motia'

const USERS: Record<string, { userId: string; role: 'member' | 'admin' }> = {
  'alice-token': { userId: 'alice', role: 'member' },
  'root-token': { userId: 'root', role: 'admin' },
}

function tokenOf(request: { headers: Record<string, string | string[] | undefined>; url?: string }) {
  // The stream client sends `protocols: ['Authorization', token]`.
  const protocol = request.headers['sec-websocket-protocol']
  if (typeof protocol === 'string' && protocol.startsWith('Authorization')) {
    const token = protocol.split(',')[1]?.trim()
    if (token) return token
  }
  const fromUrl = new URL(request.url ?? '/', 'http://localhost').searchParams.get('authToken')
  if (fromUrl) return fromUrl
  const header = request.headers['authorization']
  return typeof header === 'string' ? header.replace(/^Bearer\s+/i, '') : undefined
}

export default config({
  plugins: [],
  streamAuth: {
    contextSchema: {
      type: 'object',
      properties: { userId: { type: 'string' }, role: { type: 'string', enum: ['member', 'admin'] } },
      required: ['userId', 'role'],
    },
    authenticate: async (request) => {
      const token = tokenOf(request)
      if (!token) return null
      const user = USERS[token]
      if (!user) throw new Error('invalid token')
      return user
    },
  },
})
