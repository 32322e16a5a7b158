// A second broker implementation for interoperability tests: aedes (MQTT 3.1.1) on
// 127.0.0.1:<port>. Prints "listening" once it accepts connections; stops on SIGTERM.
'use strict'
const aedes = require('aedes')()
const net = require('net')

const port = Number(process.argv[2])
const server = net.createServer(aedes.handle)
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`))
process.on('SIGTERM', () => server.close(() => aedes.close(() => process.exit(0))))
