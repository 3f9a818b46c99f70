/** `stands check` in Russian (see check.en.ts). Proxmox's own words are quoted «…»; privilege names, paths and commands stay. */
import type { CheckCatalog, CheckVerdictWord, Who } from './check.en.js';
import { t } from './nested.js';

const q = (t: string): string => `«${t}»`;
const who = (w: Who): string => `${w.kind === 'user' ? 'пользователь' : 'API-токен'} ${w.id}`;
const VERDICTS: Record<CheckVerdictWord, string> = {
  ok: 'всё в порядке',
  unreachable: 'кластер недоступен',
  'tls-mismatch': 'сертификат TLS не совпадает',
  'bad-credentials': 'учётные данные отклонены',
  'missing-privileges': 'не хватает прав',
  'missing-prerequisites': 'не выполнены условия',
  'unsupported-version': 'версия не поддерживается',
};

export const checkRu: CheckCatalog = {
  'check.head': (p) => `${p.ok ? 'ОК' : 'ОШИБКА'} ${p.cluster} (${p.url}): ${VERDICTS[p.verdict]}`,
  'check.seen': (p) => `получен: ${p.fingerprint}`,
  'check.expected': (p) => `ожидался: ${p.what}`,
  'check.lacksHead': (p) => `${who(p.who)}: не хватает прав (${p.count})`,
  'check.missing': (p) => `нет ${p.what}`,
  'check.pveumHint': () => 'команды `pveum` для каждого пути: README, раздел «Proxmox set-up»',
  'check.problem': (p) => `проблема: ${p.text}`,
  'check.note': (p) => `примечание: ${p.text}`,
  'check.firewall': (p) => `межсетевой экран датацентра: ${p.text}`,
  'check.ok': (p) => `подключение к Proxmox VE ${p.version} (${who(p.who)}) работает`,
  'check.unsupported': (p) =>
    `на кластере ${p.cluster} Proxmox VE ${p.version}; pve-stands нужна версия ${p.min} или новее (в 8.1 изменился API пулов): обновите кластер`,
  'check.lacks': (p) => `${who(p.who)}: не хватает прав (${p.count}): ${p.list}`,
  'check.tlsMismatch': (p) => `отпечаток сертификата TLS не совпадает: получен ${p.seen}, ожидался ${p.expected}`,
  'check.tlsUntrusted': (p) =>
    `сертификату TLS нет доверия (${p.code}): получен ${p.seen}, ожидался ${t(p.expected)}; ` +
    `чтобы доверять этому серверу, укажите \`tls.fingerprint: "${p.seen}"\` для кластера ${p.cluster}`,
  'check.expectedCa': () => 'сертификат, подписанный настроенным УЦ',
  'check.expectedSystem': () => 'сертификат, которому доверяют системные УЦ',
  'check.unreachable': (p) => `нет связи с ${p.url}: ${q(p.text)}`,
  'check.refused': (p) => `${who(p.who)}: ${p.url} отказал во входе (401 ${q(p.text)})`,
  'check.denied': (p) => `доступ запрещён: ${q(p.text)}`,
  'check.answered': (p) => `${p.url} ответил ошибкой ${p.status}: ${q(p.text)}`,
  'check.priv': (p) =>
    `${p.priv} на ${p.path}` +
    (p.here ? ' (выдано там без наследования, а работа идёт ниже)' : p.flat ? ` (выдано на ${p.flat} без наследования)` : ''),
  'check.privsNotVerified': (p) => `права не проверены: сервер не поддерживает \`GET /access/permissions\` (${q(p.text)})`,
  'check.roleMissing': (p) =>
    `роли ${p.role} нет, а API-токену нельзя создавать роли (для этого нужно \`Sys.Modify\` на \`/access\`): создайте её один раз командой ${p.command}`,
  'check.realmMissing': (p) => `области аутентификации (\`realm\`) ${p.realm} на кластере нет`,
  'check.realmType': (p) =>
    `область аутентификации (\`realm\`) ${p.realm} типа ${p.type}: Proxmox задаёт пароли только пользователям \`pve\` и \`pam\`, поэтому пароли студентов там задать нельзя`,
  'check.noIfupdown2': (p) => `узел ${p.node}: не установлен \`ifupdown2\`, и Proxmox не сможет применить мосты стендов (\`apt install ifupdown2\`)`,
  'check.ifupdown2Unverified': (p) => `узел ${p.node}: наличие \`ifupdown2\` не проверено (${p.status} ${q(p.text)})`,
  'check.fwOn': () => 'включён: профили с `isolation: stand` можно развёртывать',
  'check.fwOff': () => 'выключен: профили с `isolation: stand` отклоняются, пока администратор его не включит (README, раздел «Isolation»)',
  'check.fwUnread': (p) => `не прочитан (${p.status} ${q(p.text)}): профили с \`isolation: stand\` отклоняются`,
};
