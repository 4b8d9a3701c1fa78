/* Sender CPU per tunnel packet: raw IP socket vs AF_PACKET sendmmsg vs AF_PACKET TX ring. Built and run by
   bench/tx-cost/run (see there). Prints wall-clock and CPU (CLOCK_PROCESS_CPUTIME_ID: system time included, which on
   veth also holds the receiver's softirq work) per packet. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/ethernet.h>
#include <sys/mman.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
static unsigned short csum(void*p,int n){unsigned long s=0;unsigned short*w=p;for(;n>1;n-=2)s+=*w++;while(s>>16)s=(s&0xffff)+(s>>16);return ~s;}
int main(int argc,char**argv){
  int mode=atoi(argv[1]); long N=atol(argv[2]); const char*dev=argv[3];
  unsigned char pkt[14+20+64]; memset(pkt,0,sizeof pkt);
  unsigned char*ip=pkt+14; ip[0]=0x45; ip[2]=0; ip[3]=84; ip[8]=64; ip[9]=4;
  inet_pton(AF_INET,"198.18.0.1",ip+12); inet_pton(AF_INET,"198.18.0.2",ip+16);
  unsigned char*in=ip+20; in[0]=0x45; in[3]=64; in[8]=64; in[9]=17; inet_pton(AF_INET,"203.0.113.5",in+12); inet_pton(AF_INET,"192.0.2.10",in+16);
  ((unsigned short*)ip)[5]=csum(ip,20);
  memset(pkt,0xff,6); pkt[12]=8; pkt[13]=0;
  int fd; struct sockaddr_in sin={.sin_family=AF_INET}; inet_pton(AF_INET,"198.18.0.2",&sin.sin_addr);
  struct sockaddr_ll sll={.sll_family=AF_PACKET,.sll_ifindex=if_nametoindex(dev),.sll_halen=6};
  if(mode==0){fd=socket(AF_INET,SOCK_RAW,IPPROTO_RAW);}
  else {fd=socket(AF_PACKET,SOCK_RAW,0); if(mode==2){int one=1;setsockopt(fd,SOL_PACKET,PACKET_QDISC_BYPASS,&one,sizeof one);} bind(fd,(void*)&sll,sizeof sll);}
  struct timespec a,b,ca,cb;
  if(mode>=3){ /* TPACKET_V2 TX ring, qdisc bypass: copy 32 frames into the ring, one sendto kick per 32. Mode 4: each
     frame starts with a virtio_net_hdr whose hdr_len asks the kernel to copy the whole frame into the skb's linear area
     (else it copies only the Ethernet header and points page fragments at the ring, which the receiver then pulls). */
    int v2=TPACKET_V2, one=1, vh=mode==4?10:0; setsockopt(fd,SOL_PACKET,PACKET_VERSION,&v2,sizeof v2); setsockopt(fd,SOL_PACKET,PACKET_QDISC_BYPASS,&one,sizeof one);
    if(vh) setsockopt(fd,SOL_PACKET,PACKET_VNET_HDR,&one,sizeof one);
    struct tpacket_req req={.tp_block_size=16384,.tp_block_nr=256,.tp_frame_size=2048,.tp_frame_nr=2048};
    if(setsockopt(fd,SOL_PACKET,PACKET_TX_RING,&req,sizeof req)<0){perror("PACKET_TX_RING");return 1;}
    unsigned char*ring=mmap(0,16384*256,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0); if(ring==MAP_FAILED){perror("mmap");return 1;}
    unsigned head=0; long full=0;
    clock_gettime(CLOCK_MONOTONIC,&a); clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&ca);
    long sent=0; while(sent<N){ int q=0;
      for(;q<32;q++){ struct tpacket2_hdr*h=(void*)(ring+(size_t)head*2048);
        if(__atomic_load_n(&h->tp_status,__ATOMIC_ACQUIRE)&(TP_STATUS_SEND_REQUEST|TP_STATUS_SENDING)){full++;break;}
        if(vh){ memset((unsigned char*)h+32,0,10); *(unsigned short*)((unsigned char*)h+34)=98; }
        memcpy((unsigned char*)h+32+vh,pkt,98); h->tp_len=98+vh; __atomic_store_n(&h->tp_status,TP_STATUS_SEND_REQUEST,__ATOMIC_RELEASE);
        head=(head+1)%2048; }
      if(q) { sendto(fd,NULL,0,MSG_DONTWAIT,NULL,0); sent+=q; } }
    clock_gettime(CLOCK_MONOTONIC,&b); clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&cb);
    double s=(b.tv_sec-a.tv_sec)+(b.tv_nsec-a.tv_nsec)/1e9, c=(cb.tv_sec-ca.tv_sec)+(cb.tv_nsec-ca.tv_nsec)/1e9;
    printf("mode %d (tx ring%s): %ld pkts in %.3f s = %.0f ns/pkt wall, %.0f ns/pkt cpu (ring full %ld)\n",mode,vh?", vnet hdr_len":"",sent,s,s*1e9/sent,c*1e9/sent,full);
    return 0;
  }
  struct mmsghdr m[32]; struct iovec v[32];
  for(int i=0;i<32;i++){ v[i].iov_base= mode==0? ip: pkt; v[i].iov_len= mode==0? 84: 98; memset(&m[i],0,sizeof m[i]); m[i].msg_hdr.msg_iov=&v[i]; m[i].msg_hdr.msg_iovlen=1; if(mode==0){m[i].msg_hdr.msg_name=&sin;m[i].msg_hdr.msg_namelen=sizeof sin;} }
  clock_gettime(CLOCK_MONOTONIC,&a); clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&ca);
  long sent=0,err=0; while(sent<N){int r=sendmmsg(fd,m,32,0); if(r<0){err++; if(err>1000000)break; continue;} sent+=r;}
  clock_gettime(CLOCK_MONOTONIC,&b); clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&cb);
  double s=(b.tv_sec-a.tv_sec)+(b.tv_nsec-a.tv_nsec)/1e9, c=(cb.tv_sec-ca.tv_sec)+(cb.tv_nsec-ca.tv_nsec)/1e9;
  printf("mode %d: %ld pkts in %.3f s = %.0f ns/pkt wall, %.0f ns/pkt cpu (errors %ld)\n",mode,sent,s,s*1e9/sent,c*1e9/sent,err);
}
