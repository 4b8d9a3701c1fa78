/* Sender CPU per tunnel packet: raw IP socket vs AF_PACKET. Built and run by bench/tx-cost/run (see there). */
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
  struct mmsghdr m[32]; struct iovec v[32];
  for(int i=0;i<32;i++){ v[i].iov_base= mode==0? ip: pkt; v[i].iov_len= mode==0? 84: 98; memset(&m[i],0,sizeof m[i]); m[i].msg_hdr.msg_iov=&v[i]; m[i].msg_hdr.msg_iovlen=1; if(mode==0){m[i].msg_hdr.msg_name=&sin;m[i].msg_hdr.msg_namelen=sizeof sin;} }
  struct timespec a,b; clock_gettime(CLOCK_MONOTONIC,&a);
  long sent=0,err=0; while(sent<N){int r=sendmmsg(fd,m,32,0); if(r<0){err++; if(err>1000000)break; continue;} sent+=r;}
  clock_gettime(CLOCK_MONOTONIC,&b); double s=(b.tv_sec-a.tv_sec)+(b.tv_nsec-a.tv_nsec)/1e9;
  printf("mode %d: %ld pkts in %.3f s = %.0f ns/pkt (errors %ld)\n",mode,sent,s,s*1e9/sent,err);
}
