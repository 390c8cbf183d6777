#!/usr/bin/env node
// A local SMTP sink for tests (smtp-server): listens on 127.0.0.1:PORT, prints one JSON line per mail
// received ({"event":"mail","from":...,"to":[...],"subject":...,"body":...}) after {"event":"ready"}.
import { SMTPServer } from 'smtp-server';

const port = Number(process.argv[2] ?? 2525);
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, cb) {
    let data = '';
    stream.on('data', (d) => (data += d.toString()));
    stream.on('end', () => {
      const [head, ...rest] = data.split(/\r?\n\r?\n/);
      const subject = /^Subject: (.*)$/im.exec(head ?? '')?.[1] ?? '';
      emit({
        event: 'mail',
        from: session.envelope.mailFrom?.address,
        to: session.envelope.rcptTo.map((r) => r.address),
        subject,
        body: rest.join('\n\n'),
      });
      cb();
    });
  },
});
server.listen(port, '127.0.0.1', () => emit({ event: 'ready', port }));
