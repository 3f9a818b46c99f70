/** What an engine run reports afterwards, in Russian (see run.en.ts). Proxmox's own words are quoted «…». */
import type { RunCatalog } from './run.en.js';
import { t } from './nested.js';

const q = (t: string): string => `«${t}»`;

export const runRu: RunCatalog = {
  'fail.api': (p) =>
    `${p.cluster ? `${p.cluster}: ` : ''}${p.request}: ` +
    (p.status === 0 ? `нет ответа от Proxmox${p.text ? ` (${q(p.text)})` : ''}` : `Proxmox ответил ошибкой ${p.status}${p.text ? `: ${q(p.text)}` : ''}`),
  'fail.task': (p) => `задача Proxmox завершилась с ошибкой: ${q(p.reason)}`,
  'fail.cancelled': () => 'задача отменена',
  'fail.text': (p) => `ошибка: ${q(p.message)}`,
  'fail.foreignPending': (p) =>
    `на узле ${p.node} есть чужие неприменённые изменения сети: ${p.list}; применение применило бы и их, ` +
    `поэтому мосты стенда не созданы (обратитесь к автору изменений или запустите снова с --apply-foreign-pending)`,
  'fail.sdnBlocked': (p) =>
    `изменения SDN применить нельзя: применение перезагружает сеть каждого узла, а есть чужие неприменённые ` +
    `изменения сети (${p.list}); обратитесь к их автору или запустите снова с --apply-foreign-pending`,
  'fail.sdnForeign': (p) =>
    `SDN не применён: есть чужие неприменённые изменения: ${p.list} (чтобы применить и их, запустите снова с --apply-foreign-pending)`,
  'fail.sdnReload': (p) =>
    `SDN применён, но ${p.nodes.map((x) => `${x.node ?? 'один из узлов'} (${q(x.reason)})`).join('; ')} не перезагрузил сеть, поэтому VNet стенда там не работают; ` +
    `исправьте узел, примените SDN ещё раз (Центр обработки данных → SDN → Применить) и повторите развёртывание`,
  'fail.network': (p) => `сеть на узле ${p.node}: ${q(p.reason)}`,
  'fail.vmidTaken': (p) => `VMID ${p.vmid} занят другой ВМ (${p.name === undefined ? 'без имени' : p.name} на ${p.node}); спланируйте развёртывание заново`,
  'fail.vmidTakenAfterPlan': (p) =>
    `VMID ${p.vmid} занят другой ВМ (${p.name === undefined ? 'неизвестной' : p.name}) после планирования; спланируйте развёртывание заново`,
  'fail.vmVanished': (p) => `ВМ ${p.vmid} исчезла сразу после завершения клонирования`,
  'fail.poolTaken': (p) => `пул ${p.pool} уже существует и принадлежит не этому стенду (комментарий: ${p.comment === undefined ? 'нет' : q(p.comment)})`,
  'fail.bridgeTaken': (p) =>
    `мост ${p.bridge} на ${p.node} уже существует и принадлежит не этому стенду (${p.comment === undefined ? 'без комментария' : q(p.comment)})`,
  'fail.vnetTaken': (p) => `VNet ${p.vnet} уже существует и принадлежит не этому стенду (${p.alias === undefined ? 'без псевдонима' : q(p.alias)})`,
  'fail.replicaTaken': (p) => `VMID ${p.vmid}, запланированный для реплики шаблона ${p.replica}, занят ${p.name === undefined ? 'другой ВМ' : `ВМ ${p.name}`}`,
  'fail.ipsetUnsettled': (p) => `IPSet ${p.name} не пришёл в нужное состояние за ${p.rounds} проходов (кто-то постоянно его меняет)`,
  'fail.rulesUnsettled': (p) =>
    `правила межсетевого экрана ${p.kind === 'group' ? `группы безопасности ${p.name}` : p.kind === 'vm' ? `ВМ ${p.name}` : 'центра обработки данных'} не пришли в нужное состояние (кто-то постоянно их меняет)`,
  'fail.nicFlagsUnsettled': (p) => `ВМ ${p.vmid}: флаги межсетевого экрана на её сетевых картах не пришли в нужное состояние`,
  'fail.vmFirewallUnsettled': (p) => `ВМ ${p.vmid}: параметры её межсетевого экрана не пришли в нужное состояние`,
  'fail.standsFailed': (p) => `не удалось стендов: ${p.failed} из ${p.total}`,
  'fail.unknown': () => 'ошибка',
  'txt.quoted': (p) => q(p.text),
  'pw.notOnCluster': (p) => `ВМ ${p.vmid} (${p.name}) нет на кластере`,
  'pw.leftAlone': (p) => `ВМ ${p.vmid} не тронута: ${t(p.reason)}`,
  'pw.cannotReadConfig': (p) => `не удалось прочитать её конфигурацию: ${q(p.reason)}`,
  'pw.noStartSnapshot': (p) => `у ВМ ${p.vmid} нет снимка «start»`,
  'pw.gone': (p) => `ВМ ${p.vmid} больше нет`,
  'pw.errors': (p) => p.list.map(t).join('; '),
  'pw.alreadyDone': () => 'уже сделано',
  'lease.busy': () => 'срок этого стенда уже обрабатывает другой процесс',
  'rec.vm': (p) => `ВМ ${p.vmid}: ${q(p.reason)}`,
  'rec.vmNoUser': (p) => `ВМ ${p.vmid} (${p.name}) с тегом ${p.group} не называет пользователя и не входит в пул стенда: не восстановлена`,
  'rec.network': (p) => `сеть узла ${p.node}: ${q(p.reason)}`,
  'rec.bridge': (p) => `мост ${p.bridge} на ${p.node} (${q(p.comment)}) не относится ни к одному восстановленному стенду: не тронут`,
  'kept.bridgesOn': (p) => `мосты на ${p.node}`,
  'kept.vm': (p) => `ВМ ${p.vmid} (${p.name === undefined ? 'без имени' : p.name}) на ${p.node}`,
  'kept.bridge': (p) => `мост ${p.bridge} на ${p.node}`,
  'kept.vnet': (p) => `VNet ${p.vnet}`,
  'kept.acl': (p) => `запись ACL ${p.id}`,
  'kept.pool': (p) => `пул ${p.pool}`,
  'kept.user': (p) => `пользователь ${p.user}`,
  'kept.fwGroup': (p) => `группа безопасности ${p.name}`,
  'kept.fwIpset': (p) => `IPSet ${p.name}`,
  'kept.cannotReadNetwork': (p) => `не удалось прочитать сеть узла: ${q(p.reason)}`,
  'kept.notOurVm': (p) => `записана, но это не созданная нами ВМ: ${q(p.reason)}`,
  'kept.notGroups': (p) => `не помечен как объект этой группы (${p.mark === undefined ? (p.kind === 'alias' ? 'нет псевдонима' : 'нет комментария') : q(p.mark)})`,
  'kept.notStands': (p) => `не помечен как пул этого стенда (${p.mark === undefined ? 'нет комментария' : q(p.mark)})`,
  'kept.aclUnreadable': () => 'не удалось разобрать путь, пользователя и роль: оставлена как есть',
  'kept.userNotMarked': () => 'комментарий больше не помечает его как созданного pve-stands',
  'kept.userHasStands': (p) => `у него ещё есть стенды в ${p.groups}`,
  'kept.poolHolds': (p) => `в нём ещё есть ${p.list} (не наши)`,
  'kept.noOurComment': () => 'записан как наш, но нашего комментария на нём больше нет',
  'clean.foreignPending': (p) =>
    `на узле ${p.node} есть чужие неприменённые изменения сети (${p.list}): его мосты оставлены (повторите удаление, когда изменения применят или отменят)`,
  'clean.foreignAppeared': (p) =>
    `узел ${p.node}: появилось чужое неприменённое изменение сети (${p.list}); удаление наших мостов ожидает применения и не применено`,
  'clean.isolationNotRemoved': (p) => `объекты межсетевого экрана для изоляции не удалены: ${q(p.reason)} (следующее удаление повторит попытку)`,
  'clean.cancelled': () => 'отменено',
  'clean.failed': (p) => `удаление: ${t(p.reason)}`,
};
